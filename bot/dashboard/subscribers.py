"""A subscriber found by number: status, language, properties, the consent log, and one timeline of
their messages, taps on tracked links and orders. Before a search: the possible opt-outs to review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import USER, render
from bot.domain.phones import mask_phone
from bot.domain.roles import Permission
from bot.domain.store_events import EventProblem, store_phone
from bot.http.admin import exported, read
from bot.http.clients import client_address
from bot.services import SERVICES, Services
from bot.store.queries import iso, subscriber_messages, subscriber_record
from bot.store.schema import clicks, consent_events, links, store_events, subscribers

TIMELINE = 200  # latest entries shown
REVIEW = 100  # possible opt-outs listed


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/subscribers", find)
    app.router.add_post("/dashboard/subscribers/export", export)


@auth.logged_in
async def find(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    asked = request.query.get("phone", "").strip()
    chosen = request.query.get("id", "")
    if chosen.isascii() and chosen.isdigit() and len(chosen) < 19:  # from the possible opt-outs
        found: str | None = await read(services, _phone_of, int(chosen))
        asked = found or ""
    if not asked:
        review = await read(services, _possible_opt_outs)
        return render(request, "subscribers.html", asked="", record=None, problem=None, review=review)
    try:
        phone = store_phone(asked, services.settings.store_country)
    except EventProblem as exc:
        return render(request, "subscribers.html", asked=asked, record=None, problem=str(exc))
    assert services.engine is not None
    record = await subscriber_record(services.engine, phone)
    if record is None:
        return render(request, "subscribers.html", asked=asked, record=None, problem=f"no subscriber {phone}")
    said = await subscriber_messages(services.engine, phone) or []
    others = await read(services, _taps_and_orders, phone)
    timeline = sorted([*({"kind": "message", **m} for m in said), *others], key=lambda e: e["at"] or "")
    return render(
        request, "subscribers.html", asked=asked, record=record, timeline=timeline[-TIMELINE:], problem=None
    )


@auth.requires(Permission.ADMINISTER)
async def export(request: web.Request) -> web.StreamResponse:
    """Everything held about the number, as the admin API's export, kept in the audit log."""
    services = request.app[SERVICES]
    phone = form_phone(services, await request.post())
    return await exported(services, phone, client_address(request), request[USER].name)


def form_phone(services: Services, form: Mapping[str, Any]) -> str:
    """The number a subscriber page's form carries, as stored; 400 if it is none."""
    try:
        return store_phone(str(form.get("phone", "")), services.settings.store_country)
    except EventProblem as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from exc


def _phone_of(conn: Connection, subscriber_id: int) -> str | None:
    return conn.execute(select(subscribers.c.phone).where(subscribers.c.id == subscriber_id)).scalar()


def _possible_opt_outs(conn: Connection) -> list[dict[str, Any]]:
    """Subscribers still in whose text read like an opt-out but was not clear (they were asked to
    reply STOP): the newest first, for a person to review."""
    rows = conn.execute(
        select(
            consent_events.c.subscriber_id,
            consent_events.c.text,
            consent_events.c.source,
            consent_events.c.at,
            subscribers.c.phone,
        )
        .join(subscribers, subscribers.c.id == consent_events.c.subscriber_id)
        .where(consent_events.c.action == "opt_out_asked", subscribers.c.status == "subscribed")
        .order_by(consent_events.c.id.desc())
        .limit(REVIEW)
    )
    return [
        {
            "id": r.subscriber_id,
            "phone": mask_phone(r.phone),
            "text": r.text or "",
            "why": _why_asked(r.source),
            "at": iso(r.at),
        }
        for r in rows
    ]


def _why_asked(source: str | None) -> str:
    """The rule that found the text unclear, from the record's source ("sentence: unclear: ...")."""
    return (source or "").removeprefix("sentence: ").removeprefix("unclear: ")


def _taps_and_orders(conn: Connection, phone: str) -> list[dict[str, Any]]:
    subscriber = select(subscribers.c.id).where(subscribers.c.phone == phone).scalar_subquery()
    taps = conn.execute(
        select(clicks.c.at, clicks.c.preview, links.c.origin_name, links.c.url)
        .join(links, links.c.id == clicks.c.link_id)
        .where(clicks.c.subscriber_id == subscriber)
    )
    orders = conn.execute(select(store_events).where(store_events.c.phone == phone))
    return [
        *(
            {"kind": "preview" if t.preview else "tap", "at": iso(t.at), "body": f"{t.origin_name}: {t.url}"}
            for t in taps
        ),
        *({"kind": e.type, "at": iso(e.occurred_at), "body": _event_line(e)} for e in orders),
    ]


def _event_line(event: Any) -> str:
    total = f"{event.properties.get('total_price')} {event.currency}" if event.currency else ""
    return " ".join(
        part for part in (event.properties.get("order_name") or event.order_ref or "", total) if part
    )
