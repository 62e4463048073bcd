"""What stores tell us: POST /api/events (a batch, behind a bearer token) and Shopify's webhooks
(signed). Both store through the writer, after which they answer; nothing is half-stored."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot import metrics
from bot.domain import shopify
from bot.domain.store_events import MAX_BATCH, EventProblem, StoreEvent, from_api, parse_time
from bot.http.admin import require_bearer
from bot.http.errors import within
from bot.pipeline.store_events import EventBatch, Recorded
from bot.services import SERVICES, Services

log = logging.getLogger(__name__)
MAX_EVENTS_BODY = 4 * 1024 * 1024  # a batch of 1,000 events with their line items
MAX_WEBHOOK_BODY = 1024 * 1024  # one order, however many lines
SHOPIFY_WAITS = 4.5  # seconds: Shopify gives up after 5 and retries; the webhook id makes that harmless


def setup(app: web.Application) -> None:
    app.router.add_post("/api/events", post_events)
    app.router.add_post("/shopify/webhooks", shopify_webhook)


async def post_events(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    _authorise(request, services)
    items = _batch(_json(await _body(request, MAX_EVENTS_BODY)))
    events: list[StoreEvent] = []
    problems = []
    for index, item in enumerate(items):
        try:
            events.append(from_api(item, services.settings.store_country))
        except EventProblem as exc:
            given = item.get("id") if isinstance(item, dict) else None
            problems.append({"index": index, "id": given, "problem": str(exc)})
    if problems:  # nothing stored: the caller fixes these and sends the batch again
        return web.json_response({"stored": 0, "problems": problems}, status=422)
    return web.json_response(asdict(await _store(services, events)))


async def shopify_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    secret = services.settings.shopify_secret
    if not secret:
        raise web.HTTPUnauthorized(text="Shopify webhooks are off: set SHOPIFY_WEBHOOK_SECRET\n")
    body = await _body(request, MAX_WEBHOOK_BODY)
    if not shopify.signed(body, request.headers.get("X-Shopify-Hmac-Sha256"), secret):
        log.warning(
            "rejected a Shopify webhook: %s signature",
            "bad" if request.headers.get("X-Shopify-Hmac-Sha256") else "no",
        )
        raise web.HTTPUnauthorized(text="X-Shopify-Hmac-Sha256 does not match the body\n")
    topic = request.headers.get("X-Shopify-Topic", "")
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not topic or not webhook_id or len(webhook_id) > 200:
        raise web.HTTPBadRequest(text="X-Shopify-Topic and X-Shopify-Webhook-Id are required\n")
    payload = _json(body)
    try:
        found = shopify.from_webhook(
            topic, webhook_id, payload, services.settings.store_country, _triggered(request)
        )
    except EventProblem as exc:
        # Signed by Shopify, so sending it again cannot fix it; a failure would be retried for four
        # hours and then cost the whole subscription. Answered 200, stored nowhere, said why.
        log.warning("Shopify %s not stored: %s", topic, exc)
        return web.json_response({"stored": 0, "skipped": str(exc)})
    if isinstance(found, shopify.Skipped):
        return web.json_response({"stored": 0, "skipped": found.reason})
    return web.json_response(asdict(await _store(services, [found], SHOPIFY_WAITS)))


async def _store(services: Services, events: list[StoreEvent], limit: float | None = None) -> Recorded:
    assert services.writer is not None
    if not events:
        return Recorded(stored=0, repeated=0, customers=0, attributed=0)
    recorded: Recorded = await within(services, services.writer.events(EventBatch(tuple(events))), limit)
    if recorded.stored:
        for event in events:
            metrics.STORE_EVENTS.labels(event.type).inc()
    return recorded


def _authorise(request: web.Request, services: Services) -> None:
    """The events token (a store's integration needs no more), or the admin token."""
    allowed = [t for t in (services.settings.events_token, services.settings.admin_token) if t]
    if not allowed:
        raise web.HTTPUnauthorized(text="the events API is off: set SMSBOT_EVENTS_TOKEN\n")
    require_bearer(request, allowed)


async def _body(request: web.Request, limit: int) -> bytes:
    """The raw body, refused past `limit` bytes before reading more of it."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks, size = [], 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"the body is not JSON: {exc}\n") from exc
    except RecursionError:
        raise web.HTTPBadRequest(text="the body is not JSON we read: nested too deep\n") from None


def _batch(data: Any) -> list[Any]:
    """`{"events": [...]}`, a list of events, or one event."""
    items = data.get("events") if isinstance(data, dict) and "events" in data else data
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list):
        raise web.HTTPBadRequest(text='expected {"events": [...]}: a list of events\n')
    if len(items) > MAX_BATCH:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BATCH,
            actual_size=len(items),
            text=f"at most {MAX_BATCH:,} events per call, not {len(items):,}\n",
        )
    return items


def _triggered(request: web.Request) -> datetime:
    try:
        return parse_time(request.headers.get("X-Shopify-Triggered-At"), "X-Shopify-Triggered-At")
    except EventProblem:
        return datetime.now(UTC)
