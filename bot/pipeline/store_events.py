"""Store events into the database: each stored once (a retry, a replayed webhook or a second
`orders/create` for one order stores nothing), tied to the subscriber its phone belongs to, and
each order attributed to the message that earned it, in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.domain.attribution import Touch, Windows, credit
from bot.domain.flows import Flow
from bot.domain.store_events import ORDER_CANCELLED, ORDER_PLACED, ORDER_REFUNDED, StoreEvent
from bot.pipeline.automations import Automated, automate
from bot.pipeline.coupons import redeem
from bot.store.schema import (
    campaigns,
    clicks,
    conversions,
    flow_runs,
    links,
    messages,
    store_events,
    subscribers,
)

# A retry (the same id) and a second order_placed for an order (another id, maybe from another web
# process at the same moment) are both left out by the database's unique indexes.
_INSERT = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(store_events)
    .on_conflict_do_nothing()
    .returning(store_events.c.id, store_events.c.source, store_events.c.external_id)
    for dialect in (sqlite, postgresql)
}
_SUBSCRIBERS = select(subscribers.c.phone, subscribers.c.id).where(
    subscribers.c.phone.in_(bindparam("phones", expanding=True))
)
_ORDERS_STORED = select(store_events.c.source, store_events.c.order_ref).where(
    store_events.c.type == ORDER_PLACED, store_events.c.order_ref.in_(bindparam("refs", expanding=True))
)
# Messages that can earn an order: a campaign's or a flow step's, handed over and not failed.
_MARKETING = or_(messages.c.campaign_id.is_not(None), messages.c.run_id.is_not(None))
_NOT_FAILED = messages.c.status.not_in(
    [literal_column("'failed'"), literal_column("'undelivered'"), literal_column("'canceled'")]
)
_EARNING_LINK = links.c.origin.in_([literal_column("'campaign'"), literal_column("'flow'")])


@dataclass(frozen=True)
class EventBatch:
    """The events of one call (or one webhook): stored together, or not at all."""

    events: tuple[StoreEvent, ...]


@dataclass(frozen=True)
class Recorded:
    stored: int  # new events
    repeated: int  # already stored (a retry)
    customers: int  # of phones that belong to no subscriber
    attributed: int  # orders attributed to a message


def record_events(
    conn: Connection, events: Sequence[StoreEvent], flows: Mapping[str, Flow], windows: Windows, now: datetime
) -> Recorded:
    """Store a batch (one call of the API, one webhook); attribute the orders among it, and start
    and end the automations it triggers."""
    return record_batches(conn, [events], flows, windows, now)[0]


def import_history(
    conn: Connection,
    events: Sequence[StoreEvent],
    flows: Mapping[str, Flow],
    windows: Windows,
    now: datetime,
    start: bool,
) -> tuple[Recorded, Automated]:
    """Store a batch of a store's history as `record_events` does; its automations start only if
    `start` (and then only for events fresh enough): what they did is said with it."""
    automated: list[Automated] = []
    recorded = record_batches(conn, [events], flows, windows, now, start=start, automated=automated)[0]
    return recorded, automated[0]


def record_batches(
    conn: Connection,
    batches: Sequence[Sequence[StoreEvent]],
    flows: Mapping[str, Flow],
    windows: Windows,
    now: datetime,
    *,
    start: bool = True,
    automated: list[Automated] | None = None,
) -> list[Recorded]:
    """Several batches (the calls the writer took together) in one pass: the same few statements
    for all of them, what each batch came to reported apart (and what automations did, all
    together, appended to `automated` if given)."""
    events = [e for batch in batches for e in batch]
    owners = _owners(conn, {e.phone for e in events})
    fresh = _first_of_each_order(conn, events)
    rows = [_row(e, owners.get(e.phone), now) for e in fresh]
    stored = conn.execute(_INSERT[conn.dialect.name], rows).all() if rows else []
    ids = {(row.source, row.external_id): row.id for row in stored}
    kept = {id(e): ids[(e.source, e.external_id)] for e in fresh if (e.source, e.external_id) in ids}
    orders = [kept[id(e)] for e in fresh if id(e) in kept and e.type == ORDER_PLACED and e.phone in owners]
    credited = attribute(conn, orders, windows)
    placed = [e for e in fresh if id(e) in kept and e.type == ORDER_PLACED]
    redeem(conn, [(e.order_ref, e.properties) for e in placed], now)
    take_back(conn, [e for e in fresh if id(e) in kept and e.type in (ORDER_CANCELLED, ORDER_REFUNDED)], now)
    owned = [(e, owners[e.phone]) for e in fresh if id(e) in kept and e.phone in owners]
    done = automate(conn, owned, flows, now, start=start)
    if automated is not None:
        automated.append(done)
    return [
        Recorded(
            stored=sum(1 for e in batch if id(e) in kept),
            repeated=sum(1 for e in batch if id(e) not in kept),
            customers=sum(1 for e in batch if e.phone not in owners),
            attributed=sum(1 for e in batch if kept.get(id(e)) in credited),
        )
        for batch in batches
    ]


def _owners(conn: Connection, phones: set[str]) -> dict[str, int]:
    if not phones:
        return {}
    return {row.phone: row.id for row in conn.execute(_SUBSCRIBERS, {"phones": sorted(phones)})}


def _first_of_each_order(conn: Connection, events: Sequence[StoreEvent]) -> list[StoreEvent]:
    """Without a second order_placed for an order already stored (or twice in this batch), and
    without a second event of one id in the batch."""
    refs = {e.order_ref for e in events if e.type == ORDER_PLACED and e.order_ref}
    seen = (
        {(r.source, r.order_ref) for r in conn.execute(_ORDERS_STORED, {"refs": sorted(refs)})}
        if refs
        else set()
    )
    ids: set[tuple[str, str]] = set()
    kept = []
    for event in events:
        order = (event.source, event.order_ref or "")
        if (event.source, event.external_id) in ids or (
            event.type == ORDER_PLACED and event.order_ref and order in seen
        ):
            continue
        ids.add((event.source, event.external_id))
        if event.type == ORDER_PLACED:
            seen.add(order)
        kept.append(event)
    return kept


def _row(event: StoreEvent, subscriber_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "source": event.source,
        "external_id": event.external_id,
        "type": event.type,
        "phone": event.phone,
        "subscriber_id": subscriber_id,
        "order_ref": event.order_ref,
        "value_minor": event.value_minor,
        "currency": event.currency,
        "properties": dict(event.properties),
        "occurred_at": event.occurred_at,
        "received_at": now,
    }


# -- attribution ---------------------------------------------------------------------------------

_ORDERS = (
    select(
        store_events.c.id,
        store_events.c.source,
        store_events.c.order_ref,
        store_events.c.subscriber_id,
        store_events.c.occurred_at,
        store_events.c.value_minor,
        store_events.c.currency,
        subscribers.c.opt_in_source,
        select(clicks.c.id)
        .join(links, links.c.id == clicks.c.link_id)
        .where(
            clicks.c.subscriber_id == store_events.c.subscriber_id,
            clicks.c.preview == false(),
            clicks.c.at <= store_events.c.occurred_at,
            _EARNING_LINK,
        )
        .order_by(clicks.c.at.desc())
        .limit(1)
        .scalar_subquery()
        .label("click_id"),
        select(messages.c.id)
        .where(
            messages.c.subscriber_id == store_events.c.subscriber_id,
            messages.c.handed_at <= store_events.c.occurred_at,
            _MARKETING,
            _NOT_FAILED,
        )
        .order_by(messages.c.handed_at.desc())
        .limit(1)
        .scalar_subquery()
        .label("message_id"),
    )
    .join(subscribers, subscribers.c.id == store_events.c.subscriber_id)
    .where(store_events.c.id.in_(bindparam("ids", expanding=True)))
)
_CLICKED = (
    select(
        clicks.c.id,
        clicks.c.at,
        messages.c.id.label("message_id"),
        links.c.origin,
        links.c.origin_name,
        links.c.campaign_id,
    )
    .join(links, links.c.id == clicks.c.link_id)
    .outerjoin(messages, messages.c.ref == links.c.message_ref)
    .where(clicks.c.id.in_(bindparam("ids", expanding=True)))
)
_RECEIVED = (
    select(
        messages.c.id,
        messages.c.handed_at,
        messages.c.campaign_id,
        campaigns.c.name.label("campaign"),
        flow_runs.c.flow,
    )
    .outerjoin(campaigns, campaigns.c.id == messages.c.campaign_id)
    .outerjoin(flow_runs, and_(flow_runs.c.id == messages.c.run_id, messages.c.campaign_id.is_(None)))
    .where(messages.c.id.in_(bindparam("ids", expanding=True)))
)


def take_back(conn: Connection, cancellations: Sequence[StoreEvent], now: datetime) -> None:
    """The orders these events cancel (or refund in full) are no longer credited: their conversions
    keep when (the reports leave them out, the counting triggers take their count and revenue
    back). A refund of part of an order (less than its credited total, in its currency) changes
    nothing: the order is still credited in full."""
    for event in cancellations:
        if not event.order_ref:
            continue
        placed = select(store_events.c.id).where(
            store_events.c.type == ORDER_PLACED,
            store_events.c.source == event.source,
            store_events.c.order_ref == event.order_ref,
        )
        whole: list[ColumnElement[bool]] = [
            conversions.c.event_id.in_(placed),
            conversions.c.cancelled_at.is_(None),
        ]
        if event.type == ORDER_REFUNDED and event.value_minor is not None:
            whole += [
                conversions.c.currency == event.currency,
                conversions.c.value_minor <= event.value_minor,
            ]
        conn.execute(update(conversions).where(*whole).values(cancelled_at=now))


def _cancelled(conn: Connection, orders: Sequence[Any]) -> set[tuple[str, str]]:
    """Of these orders, (source, order ref) of those a cancellation came for already."""
    refs = sorted({o.order_ref for o in orders if o.order_ref})
    if not refs:
        return set()
    found = conn.execute(
        select(store_events.c.source, store_events.c.order_ref).where(
            store_events.c.type == ORDER_CANCELLED, store_events.c.order_ref.in_(refs)
        )
    )
    return {(row.source, row.order_ref) for row in found}


def attribute(conn: Connection, order_ids: Sequence[int], windows: Windows) -> set[int]:
    """Attribute these stored orders (of subscribers) to a message each, where one earned it (an
    order cancelled before it came, none); the ids of those credited."""
    if not order_ids:
        return set()
    if conn.dialect.name == "postgresql":
        # Its two correlated subqueries are priced high enough for PostgreSQL to JIT-compile the
        # query every time: 0.56 s of 0.61 s for 1,000 orders, measured; answered from indexes anyway.
        conn.exec_driver_sql("SET LOCAL jit = off")
    stored = conn.execute(_ORDERS, {"ids": list(order_ids)}).all()
    cancelled = _cancelled(conn, stored)
    orders = [o for o in stored if (o.source, o.order_ref) not in cancelled]
    clicked = _touches(conn, _CLICKED, [o.click_id for o in orders if o.click_id], _click)
    received = _touches(conn, _RECEIVED, [o.message_id for o in orders if o.message_id], _receipt)
    rows = []
    for order in orders:
        earned = credit(
            order.occurred_at, clicked.get(order.click_id), received.get(order.message_id), windows
        )
        if earned is not None:
            rows.append(_conversion(order, earned.via, earned.touch))
    if rows:
        conn.execute(conversions.insert(), rows)
    return {row["event_id"] for row in rows}


def _touches(conn: Connection, query: Any, ids: list[int], make: Any) -> dict[int, Touch]:
    if not ids:
        return {}
    return {row.id: make(row) for row in conn.execute(query, {"ids": sorted(set(ids))})}


def _click(row: Any) -> Touch:
    return Touch(row.at, row.message_id, row.origin, row.origin_name, row.campaign_id)


def _receipt(row: Any) -> Touch:
    if row.campaign_id is not None:
        return Touch(row.handed_at, row.id, "campaign", row.campaign or "", row.campaign_id)
    return Touch(row.handed_at, row.id, "flow", row.flow or "", None)


def _conversion(order: Any, via: str, touch: Touch) -> dict[str, Any]:
    return {
        "event_id": order.id,
        "subscriber_id": order.subscriber_id,
        "message_id": touch.message_id,
        "via": via,
        "origin": touch.origin,
        "origin_name": touch.origin_name,
        "campaign_id": touch.campaign_id,
        "opt_in_source": order.opt_in_source,
        "value_minor": order.value_minor,
        "currency": order.currency,
        "occurred_at": order.occurred_at,
    }
