"""The carrier's webhooks: inbound messages and delivery status callbacks."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

import redis.asyncio as aioredis
from aiohttp import web
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.coord.claims import ClaimState
from bot.domain.inbound import BadInbound, InboundMessage, mask_phone, parse_form
from bot.pipeline.apply import Applied, Reply
from bot.pipeline.outbox import record_status
from bot.services import SERVICES, Services

log = logging.getLogger(__name__)
TWIML = "text/xml"
EMPTY_TWIML = str(MessagingResponse())


class Rejected(web.HTTPException):
    """A 4xx with a plain-text reason the carrier's debugger will show."""

    def __init__(self, status: int, reason: str) -> None:
        self.status_code = status
        super().__init__(text=reason + "\n", content_type="text/plain")


async def read_form(request: web.Request) -> dict[str, str]:
    raw = await request.read()
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError as exc:
        raise Rejected(400, "the request body is not UTF-8 form data") from exc
    return dict(pairs)


def check_signature(request: web.Request, services: Services, form: Mapping[str, str]) -> None:
    """403 unless X-Twilio-Signature matches the URL the carrier called (the public one)."""
    validator = services.validator
    if validator is None:
        return
    signature = request.headers.get("X-Twilio-Signature", "")
    public = services.settings.public_url
    # raw_path: the request target exactly as sent, which is what the carrier signed.
    base = public or f"{request.scheme}://{request.host}"
    url = f"{base}{request.raw_path}"
    if not signature or not _signed(validator, url, form, signature):
        log.warning(
            "rejected %s %s: %s signature", request.method, request.path, "bad" if signature else "no"
        )
        raise Rejected(403, "invalid or missing X-Twilio-Signature")


def _signed(validator: RequestValidator, url: str, form: Mapping[str, str], signature: str) -> bool:
    # The exact URL first: one HMAC. The SDK's validate() always computes two (with and without
    # the port), so it is kept for the rarer case where only the other form matches.
    expected = validator.compute_signature(url, dict(form))
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return bool(validator.validate(url, dict(form), signature))


def status_url(services: Services, ref: str) -> str:
    path = f"/twilio/status?ref={quote(ref, safe='')}"
    return f"{services.settings.public_url}{path}" if services.settings.public_url else path


def render_twiml(services: Services, replies: tuple[Reply, ...]) -> str:
    if not replies:
        return EMPTY_TWIML
    response = MessagingResponse()
    for reply in replies:
        message = response.message(reply.body, action=status_url(services, reply.ref), method="POST")
        for url in reply.media_urls:
            message.media(url)
    return str(response)


async def inbound_sms(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await read_form(request)
    check_signature(request, services, form)
    try:
        message = parse_form(form, datetime.now(UTC))
    except BadInbound as exc:
        raise Rejected(400, str(exc)) from exc
    handled = await handle(services, message)
    return web.Response(text=handled.twiml, content_type=TWIML)


@dataclass(frozen=True)
class Handled:
    twiml: str
    applied: Applied | None  # None when Redis replayed a reply without touching the database


async def handle(services: Services, message: InboundMessage) -> Handled:
    """Apply one message exactly once and return its TwiML, replaying it for duplicates."""
    coord, writer = services.coord, services.writer
    assert coord is not None and writer is not None
    sid, phone = message.message_sid, message.sender
    timeout = services.settings.lock_timeout
    token = coord.token()
    async with coord.local_lock(phone):
        redis_ok = True
        try:
            claim = await coord.begin(sid, phone, token)
            if claim.state is ClaimState.DONE and claim.reply is not None:
                return Handled(claim.reply, None)
            if claim.state is ClaimState.IN_FLIGHT:
                reply = await coord.wait_done(sid, timeout)
                if reply is not None:
                    return Handled(reply, None)
                # The first delivery's handler vanished; the database will tell what it stored.
            if not claim.locked and not await coord.lock(phone, token, timeout):
                log.warning(
                    "lock for %s not had in %.0fs; the database serialises", mask_phone(phone), timeout
                )
        except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
            # Redis only coordinates: without it the database still dedupes and serialises.
            log.error("Redis unreachable (%s); handling %s without it", exc, sid)
            redis_ok = False
            # The script may have run before the reply was lost: let go of what we may hold,
            # or this number's next messages would wait out the lock.
            await _quietly(coord.abandon(sid, phone, token))

        try:
            applied = await writer.submit(message)
        except BaseException:
            if redis_ok:
                await _quietly(coord.abandon(sid, phone, token))
            raise
        twiml = render_twiml(services, applied.replies)
        if redis_ok:
            calls = [coord.finish(sid, phone, token, twiml)]
            if applied.replies and not message.simulated:
                # The carrier sends these at once from the number texted: flow steps make room.
                interval = 1000.0 / services.settings.send_rate
                calls.append(coord.charge(message.recipient, len(applied.replies), interval, time.time()))
            await _quietly(asyncio.gather(*calls))
    if applied.outcome is not None:
        log.info(
            "%s from %s: %s -> %s",
            applied.outcome.intent.value,
            mask_phone(phone),
            sid,
            applied.outcome.status.value,
        )
    return Handled(twiml, applied)


async def _quietly(call: Awaitable[object]) -> None:
    try:
        await call
    except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
        log.error("Redis unreachable while releasing a claim: %s", exc)


async def status_callback(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await read_form(request)
    check_signature(request, services, form)
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise Rejected(400, "MessageSid and MessageStatus are required")
    try:
        error_code = int(form["ErrorCode"]) if form.get("ErrorCode") else None
    except ValueError as exc:
        raise Rejected(400, "ErrorCode is not a number") from exc
    assert services.engine is not None
    found = await record_status(
        services.engine,
        ref=request.query.get("ref"),
        sid=sid,
        status=status,
        error_code=error_code,
        now=datetime.now(UTC),
    )
    if not found:
        log.info("status %s for unknown message %s", status, sid)
    return web.Response(text=EMPTY_TWIML, content_type=TWIML)
