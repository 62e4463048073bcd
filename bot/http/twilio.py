"""Twilio's webhooks, thin: read the form, check the signature, hand it to the pipeline, answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from aiohttp import web

from bot import metrics
from bot.channels.base import Reply
from bot.channels.twilio import twiml
from bot.channels.twilio.inbound import parse_form, parse_status
from bot.channels.twilio.signature import HEADER, Signatures
from bot.domain.inbound import BadInbound
from bot.http.errors import within
from bot.logs import REQUEST_ID
from bot.services import SERVICES, Services

log = logging.getLogger(__name__)
SIGNATURES = web.AppKey("twilio_signatures", Signatures)


def setup(app: web.Application) -> None:
    """Twilio's routes; signatures are checked whenever the auth token is set."""
    token = app[SERVICES].settings.twilio_auth_token
    if token:
        app[SIGNATURES] = Signatures(token)
    app.router.add_post("/twilio/sms", inbound_sms)
    app.router.add_post(twiml.STATUS_PATH, status_callback)


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
    """403 unless the signature matches the URL the carrier called (the public one)."""
    signatures = request.app.get(SIGNATURES)
    if signatures is None:
        return
    signature = request.headers.get(HEADER, "")
    # raw_path: the request target exactly as sent, which is what the carrier signed.
    base = services.settings.public_url or f"{request.scheme}://{request.host}"
    if not signatures.valid(f"{base}{request.raw_path}", form, signature):
        log.warning(
            "rejected %s %s: %s signature", request.method, request.path, "bad" if signature else "no"
        )
        raise Rejected(403, f"invalid or missing {HEADER}")


async def inbound_sms(request: web.Request) -> web.Response:
    started = time.perf_counter()
    services = request.app[SERVICES]
    form = await read_form(request)
    check_signature(request, services, form)
    try:
        message = parse_form(form, datetime.now(UTC))
    except BadInbound as exc:
        raise Rejected(400, str(exc)) from exc
    REQUEST_ID.set(message.message_sid)  # the log follows the message by the carrier's own id
    public_url = services.settings.public_url

    def render(replies: Sequence[Reply]) -> str:
        return twiml.render(replies, public_url)

    handled = await within(services, services.pipeline().handle(message, render))
    metrics.inbound_answered(handled.applied, time.perf_counter() - started)
    return web.Response(text=handled.answer, content_type=twiml.CONTENT_TYPE)


async def status_callback(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await read_form(request)
    check_signature(request, services, form)
    try:
        report = parse_status(form, request.query.get("ref"))
    except BadInbound as exc:
        raise Rejected(400, str(exc)) from exc
    assert services.writer is not None
    if report.error_code is not None:  # most of the carrier's refusals come this way (30003-30008)
        metrics.CARRIER_ERRORS.labels(str(report.error_code)).inc()
    if not await within(services, services.writer.report(report)):
        log.info("status %s for unknown message %s", report.status, report.sid)
    return web.Response(text=twiml.EMPTY, content_type=twiml.CONTENT_TYPE)
