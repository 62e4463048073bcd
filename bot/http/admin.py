"""The admin API: a subscriber's record, consent log and messages, behind a bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.inbound import BadInbound
from bot.domain.model import Program
from bot.domain.phones import mask_phone, to_e164
from bot.http.clients import client_address
from bot.http.disposition import content_disposition
from bot.pipeline.subscriber_export import export
from bot.services import SERVICES, Services
from bot.store.audit import record
from bot.store.queries import subscriber_messages, subscriber_record

T = TypeVar("T")
Query = Callable[[AsyncEngine, str], Awaitable[T | None]]


def authorise(request: web.Request, services: Services) -> None:
    if not services.settings.admin_token:
        raise web.HTTPUnauthorized(text="the admin API is off: set SMSBOT_ADMIN_TOKEN\n")
    require_bearer(request, [services.settings.admin_token])


def require_bearer(request: web.Request, tokens: list[str]) -> None:
    """401 unless `Authorization: Bearer <one of tokens>` (compared in constant time)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if (
        scheme.lower() != "bearer"
        or not token.isascii()
        or not any(hmac.compare_digest(token.encode(), t.encode()) for t in tokens)
    ):
        raise web.HTTPUnauthorized(
            text="a valid Authorization: Bearer token is required\n", headers={"WWW-Authenticate": "Bearer"}
        )


def authorised(request: web.Request) -> tuple[Services, Program]:
    """The services and the current program, behind the admin token (a 401 without it)."""
    services = request.app[SERVICES]
    authorise(request, services)
    assert services.engine is not None
    return services, services.program.current


def _phone(request: web.Request) -> str:
    raw = request.match_info["phone"].strip()
    if not raw.startswith("+"):
        raw = "+" + raw  # "+" is easy to lose in a URL; the number is international either way
    try:
        return to_e164(raw)
    except BadInbound as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from exc


async def _subscribers(request: web.Request, query: Query[T]) -> T:
    """`query` for the subscriber the URL names, behind the token; 404 when there is none."""
    services = request.app[SERVICES]
    authorise(request, services)
    assert services.engine is not None
    found = await query(services.engine, _phone(request))
    if found is None:
        raise web.HTTPNotFound(text="no such subscriber\n")
    return found


async def get_subscriber(request: web.Request) -> web.Response:
    return web.json_response(await _subscribers(request, subscriber_record))


async def get_messages(request: web.Request) -> web.Response:
    return web.json_response({"messages": await _subscribers(request, subscriber_messages)})


async def get_export(request: web.Request) -> web.Response:
    """Everything held about the number (GDPR Art. 15): one JSON document, kept in the audit log."""
    services, _ = authorised(request)
    return await exported(services, _phone(request), client_address(request))


async def exported(services: Services, phone: str, address: str, user: str | None = None) -> web.Response:
    """The export of `phone` as a JSON download, and its line in the audit log (who asked, from
    where): the admin API's and the dashboard's alike. A 404 when nothing is held about it."""
    now = datetime.now(UTC)
    document = await read(services, export, phone, now)
    if document is None:
        raise web.HTTPNotFound(text="nothing is held about this number\n")
    await write(services, record, now, address, "subscriber_export", mask_phone(phone), user)
    return web.json_response(
        document,
        headers={"Content-Disposition": content_disposition("attachment", f"{phone}.json")},
    )


async def read(services: Services, query: Callable[..., T], *args: Any) -> T:
    """`query(conn, *args)` on one connection."""
    assert services.engine is not None
    async with services.engine.connect() as conn:
        return await conn.run_sync(query, *args)


async def write(services: Services, change: Callable[..., T], *args: Any) -> T:
    """`change(conn, *args)` in one write transaction, behind the same lock as every other writer
    (SQLite's file lock)."""
    from bot.store.db import WriteTransactions

    assert services.engine is not None
    transactions = WriteTransactions(services.engine, services.settings.database_url, name="admin-db")
    try:
        return await transactions.run(change, *args)
    finally:
        transactions.close()
