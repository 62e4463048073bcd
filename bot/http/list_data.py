"""The admin API's list data: an existing list imported (POST /api/subscribers/import, a CSV body)
and a number erased on request (POST /api/subscribers/{phone}/erase). Both in the audit log."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.domain.list_import import ImportProblem, parse_mapping
from bot.domain.phones import mask_phone
from bot.domain.subscription import Status
from bot.http.admin import _phone, authorised, write
from bot.http.clients import client_address
from bot.pipeline.forget import erase_and_record, forget_in_redis
from bot.pipeline.subscriber_import import Plan, import_into, read_csv
from bot.pipeline.suppression import KeyMismatch, load_key
from bot.services import Services
from bot.store.audit import record

MOST = 64 * 1024 * 1024  # an upload's bytes: a list of about a million numbers


async def post_erase(request: web.Request) -> web.Response:
    services, _ = authorised(request)
    body = await _json(request)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise web.HTTPBadRequest(text='say why, for the audit log: {"reason": "GDPR request #123"}\n')
    address = client_address(request)
    return web.json_response(await erased(services, _phone(request), f"api from {address}", address, reason))


async def erased(
    services: Services, phone: str, who: str, address: str, why: str, user: str | None = None
) -> dict[str, Any]:
    """Erase `phone` (the admin API's and the dashboard's alike): what was done."""
    try:
        key = load_key(services.settings)
        done = await write(
            services, erase_and_record, key, phone, who, address, why.strip()[:120], _now(), user
        )
    except KeyMismatch as exc:
        raise web.HTTPConflict(text=f"{exc}\n") from None
    forgotten = await forget_in_redis(services.redis, services.settings.redis_prefix, phone, done)
    return {
        "erased": mask_phone(phone),
        "held": done.held,
        "rows": done.rows,
        "redis": "forgotten" if forgotten else "not reachable: its keys expire within a day",
        "suppressed": True,
    }


async def post_import(request: web.Request) -> web.Response:
    """A CSV list: ?name=, ?preset=, ?status=, ?skip_bad=true, ?map=COLUMN=FIELD (repeated)."""
    services, program = authorised(request)
    data = await read_capped(request.content.read, request.content_length)
    text = data.decode("utf-8-sig", errors="replace")
    plan = plan_from(services, program, request.query, request.query.getall("map", []))
    report = await imported(services, text, plan, client_address(request))
    return web.json_response(report, status=200 if report["written"] else 422)


def plan_from(services: Services, program: Any, query: Any, pairs: list[str]) -> Plan:
    status = query.get("status")
    if status not in (None, "", "subscribed", "unsubscribed"):
        raise web.HTTPBadRequest(text="status: subscribed or unsubscribed\n")
    try:
        mapping = parse_mapping(pairs)
    except ImportProblem as exc:
        raise web.HTTPBadRequest(text=f"{exc.problems[0]}\n") from None
    return Plan(
        name=(query.get("name") or "upload.csv")[:80],
        program=program,
        country=services.settings.store_country,
        now=datetime.now(UTC),
        mapping=mapping,
        preset=query.get("preset") or None,
        status=Status(status) if status else None,
        skip_bad=query.get("skip_bad") in ("true", "1", "yes", "on"),
    )


async def imported(
    services: Services, text: str, plan: Plan, address: str, user: str | None = None
) -> dict[str, Any]:
    """Import `text` (the API's and the dashboard's alike); the report, and its audit line."""
    assert services.engine is not None
    try:
        key = load_key(services.settings)
        report = await import_into(
            services.engine,
            services.settings.database_url,
            key,
            read_csv(io.StringIO(text, newline="")),
            plan,
        )
    except ImportProblem as exc:
        raise web.HTTPUnprocessableEntity(
            text=json.dumps({"problems": exc.problems}), content_type="application/json"
        ) from None
    except KeyMismatch as exc:
        raise web.HTTPConflict(text=f"{exc}\n") from None
    found = report.as_dict()
    detail = f"{plan.name}: {report.rows} rows, {found['created']} new, {report.bad} bad"
    await write(services, record, _now(), address, "subscriber_import", detail, user)
    return found


async def read_capped(read: Callable[[int], Awaitable[bytes]], declared: int | None = None) -> bytes:
    """A list's bytes, read a chunk at a time as they come (the app's own limit is for webhooks; a
    list is larger): 413 past MOST."""
    if declared is not None and declared > MOST:
        raise web.HTTPRequestEntityTooLarge(max_size=MOST, actual_size=declared)
    chunks, size = [], 0
    while chunk := await read(1 << 20):
        size += len(chunk)
        if size > MOST:
            raise web.HTTPRequestEntityTooLarge(max_size=MOST, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="expected a JSON object\n") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object\n")
    return body


def _now() -> datetime:
    return datetime.now(UTC)
