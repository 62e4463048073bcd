"""A subscriber found by number: status, language, properties, the consent log, and one timeline of
their messages, taps on tracked links and orders."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain.store_events import EventProblem, store_phone
from bot.http.admin import read
from bot.services import SERVICES
from bot.store.queries import iso, subscriber_messages, subscriber_record
from bot.store.schema import clicks, links, store_events, subscribers

TIMELINE = 200  # latest entries shown


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/subscribers", find)


@auth.logged_in
async def find(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    asked = request.query.get("phone", "").strip()
    if not asked:
        return render(request, "subscribers.html", asked="", record=None, problem=None)
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
