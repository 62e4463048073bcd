"""Segments compiled to SQL: a WHERE clause over `subscribers`, the same meaning on SQLite and
PostgreSQL (properties are JSON: read with json_extract on SQLite, ->> on PostgreSQL).

"Today" is the brand's day (the program's time zone): a birthday is today in Austin, not in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from bot.domain.segments import (
    All,
    AnyOf,
    Clicked,
    Condition,
    DateWithin,
    Engaged,
    InFlow,
    InSegment,
    IsOneOf,
    Not,
    Op,
    OrderedProduct,
    PlacedOrder,
    Property,
    ReceivedCampaign,
    Segment,
    Spent,
    StartedCheckout,
    Subscribed,
    Texted,
)
from bot.domain.store_events import CHECKOUT_STARTED, ORDER_PLACED
from bot.store.rows import texted_at
from bot.store.schema import (
    campaigns,
    clicks,
    flow_runs,
    keyword_events,
    links,
    messages,
    store_events,
    subscribers,
)

Where = ColumnElement[bool]


@dataclass(frozen=True)
class Compiler:
    dialect: str
    segments: Mapping[str, Segment]
    now: datetime
    zone: tzinfo = UTC  # the brand's

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def since(self, days: int) -> datetime:
        return self.now - timedelta(days=days)

    def where(self, condition: Condition) -> Where:
        """The condition as a WHERE clause over `subscribers`."""
        if isinstance(condition, All):
            return and_(true(), *(self.where(c) for c in condition.conditions))
        if isinstance(condition, AnyOf):
            return or_(false(), *(self.where(c) for c in condition.conditions))
        if isinstance(condition, Not):
            # Someone without the property is not in "vip = true": so they are in not: {vip}. SQL's
            # NULL would leave them out of both.
            return not_(func.coalesce(self.where(condition.condition), false()))
        if isinstance(condition, IsOneOf):
            return subscribers.c[condition.field.value].in_(condition.values)
        if isinstance(condition, InSegment):
            return self.where(self.segments[condition.name].condition)
        return _LEAVES[type(condition)](self, condition)

    def _property(self, condition: Condition) -> Where:
        assert isinstance(condition, Property)
        element = subscribers.c.properties[condition.name]
        op, value = condition.op, condition.value
        if op is Op.IS_SET:
            present: Where = element.as_string().is_not(None)  # ->> and json_extract: any type, no cast
            return present if value else not_(present)
        if op is Op.CONTAINS:
            return self._contains(condition.name, element, value)
        sample = value[0] if op in (Op.ONE_OF, Op.BETWEEN) and value else value
        typed: ColumnElement[Any] = _typed(element, sample)
        compared: Where
        if op is Op.ONE_OF:
            compared = typed.in_(value)
        elif op is Op.BETWEEN:
            compared = typed.between(value[0], value[1])
        elif op is Op.GREATER:
            compared = typed > value
        elif op is Op.LESS:
            compared = typed < value
        else:
            compared = typed == value
        return compared

    def _contains(self, name: str, element: Any, value: str) -> Where:
        """A list property holds `value`: JSONB containment on PostgreSQL, json_each on SQLite."""
        if self.dialect == "postgresql":
            return cast(element, JSONB).contains(cast(literal([value], JSONB), JSONB))
        path = '$."' + name.replace('"', '\\"') + '"'
        items = func.json_each(subscribers.c.properties, path).table_valued("value")
        return exists(select(literal(1)).select_from(items).where(items.c.value == value))

    def _date_within(self, condition: Condition) -> Where:
        assert isinstance(condition, DateWithin)
        value: ColumnElement[str] = subscribers.c.properties[condition.name].as_string()
        first, last = sorted((self.today, self.today + timedelta(days=condition.days)))
        if not condition.ignore_year:  # ISO dates compare as text; "--05-17" (no year) never matches
            return value.between(first.isoformat(), last.isoformat())
        days = {(first + timedelta(days=n)).strftime("%m-%d") for n in range((last - first).days + 1)}
        month_day: Where = func.substr(value, func.length(value) - 4).in_(sorted(days))
        return month_day

    def _subscribed(self, condition: Condition) -> Where:
        assert isinstance(condition, Subscribed)
        at = subscribers.c.subscribed_at
        parts: list[Where] = [at.is_not(None)]
        if condition.after is not None:
            parts.append(at >= self._midnight(condition.after))
        if condition.before is not None:
            parts.append(at < self._midnight(condition.before))
        if condition.within_days is not None:
            parts.append(at >= self.since(condition.within_days))
        return and_(*parts)

    def _midnight(self, day: str) -> datetime:
        return datetime.combine(date.fromisoformat(day), time(), tzinfo=self.zone).astimezone(UTC)

    def _texted(self, condition: Condition) -> Where:
        """From the subscriber's own summary (keywords_texted), unless the condition counts texts
        within a window: those are counted in keyword_events."""
        assert isinstance(condition, Texted)
        if condition.within_days is None:
            times: Where = self._texted_field(condition.keyword, "times").as_float() >= condition.at_least
            return times
        if condition.at_least <= 1:
            since = texted_at(self.since(condition.within_days))
            recent: Where = self._texted_field(condition.keyword, "last").as_string() >= since
            return recent
        return self._texted_in_window(condition)

    def _texted_field(self, keyword: str, field: str) -> Any:
        column = subscribers.c.keywords_texted
        if self.dialect == "postgresql":
            return column[keyword][field]  # -> then ->>: a path literal could not hold every keyword
        return column[(keyword, field)]  # SQLite: one json_extract path

    def _texted_in_window(self, condition: Texted) -> Where:
        matching: list[Where] = [keyword_events.c.keyword == condition.keyword]
        if condition.within_days is not None:
            matching.append(keyword_events.c.at >= self.since(condition.within_days))
        texted = select(keyword_events.c.subscriber_id).where(*matching)  # one read of the keyword's index
        if condition.at_least > 1:
            texted = texted.group_by(keyword_events.c.subscriber_id).having(
                func.count() >= condition.at_least
            )
        return subscribers.c.id.in_(texted)

    # Behaviour: a semi-join (id IN the subscribers who did it), read once from an index on time
    # or on the campaign, rather than a look per subscriber.

    def _engaged(self, condition: Condition) -> Where:
        """Texted us or clicked a tracked link: kept on the subscriber as both arrive."""
        assert isinstance(condition, Engaged)
        return subscribers.c.engaged_at >= self.since(condition.within_days)

    def _clicked(self, condition: Condition) -> Where:
        assert isinstance(condition, Clicked)
        query = select(clicks.c.subscriber_id).where(clicks.c.preview.is_(False))
        if condition.within_days is not None:
            query = query.where(clicks.c.at >= self.since(condition.within_days))
        if condition.campaign is not None:
            query = query.where(clicks.c.campaign_id.in_(_campaign_ids(condition.campaign)))
        if condition.flow is not None:
            query = query.join(links, links.c.id == clicks.c.link_id).where(
                links.c.origin == "flow", links.c.origin_name == condition.flow
            )
        return subscribers.c.id.in_(query)

    def _received(self, condition: Condition) -> Where:
        assert isinstance(condition, ReceivedCampaign)
        query = select(messages.c.subscriber_id).where(
            messages.c.campaign_id.in_(_campaign_ids(condition.campaign)),
            messages.c.handed_at.is_not(None),
        )
        if condition.within_days is not None:
            query = query.where(messages.c.handed_at >= self.since(condition.within_days))
        return subscribers.c.id.in_(query)

    def _in_flow(self, condition: Condition) -> Where:
        assert isinstance(condition, InFlow)
        runs = select(flow_runs.c.subscriber_id).where(
            flow_runs.c.flow == condition.flow,
            flow_runs.c.status == ("ended" if condition.finished else "active"),
        )
        return subscribers.c.id.in_(runs)

    # Commerce, from store events: semi-joins on the phone (an order placed before subscribing
    # counts), each read from the index of events by type and time.

    def _orders(self, within_days: int | None) -> Select[Any]:
        """The phones of orders placed (in the window), none cancelled since."""
        cancelled = select(store_events.c.order_ref).where(
            store_events.c.type == "order_cancelled", store_events.c.order_ref.is_not(None)
        )
        query = select(store_events.c.phone).where(
            store_events.c.type == ORDER_PLACED,
            or_(store_events.c.order_ref.is_(None), store_events.c.order_ref.not_in(cancelled)),
        )
        if within_days is not None:
            query = query.where(store_events.c.occurred_at >= self.since(within_days))
        return query

    def _placed_order(self, condition: Condition) -> Where:
        assert isinstance(condition, PlacedOrder)
        orders = self._orders(condition.within_days)
        if condition.at_least > 1:
            orders = orders.group_by(store_events.c.phone).having(func.count() >= condition.at_least)
        return subscribers.c.phone.in_(orders)

    def _spent(self, condition: Condition) -> Where:
        assert isinstance(condition, Spent)
        total = func.sum(store_events.c.value_minor)
        bounds = [total > condition.over_minor] if condition.over_minor is not None else []
        if condition.under_minor is not None:
            bounds.append(total < condition.under_minor)
        orders = (
            self._orders(condition.within_days)
            .where(store_events.c.currency == condition.currency)
            .group_by(store_events.c.phone)
            .having(and_(*bounds))
        )
        return subscribers.c.phone.in_(orders)

    def _started_checkout(self, condition: Condition) -> Where:
        assert isinstance(condition, StartedCheckout)
        checkouts = select(store_events.c.phone).where(
            store_events.c.type == CHECKOUT_STARTED,
            store_events.c.occurred_at >= self.since(condition.within_days),
        )
        started: Where = subscribers.c.phone.in_(checkouts)
        if not condition.without_order:
            return started
        return and_(started, subscribers.c.phone.not_in(self._orders(condition.within_days)))

    def _ordered_product(self, condition: Condition) -> Where:
        assert isinstance(condition, OrderedProduct)
        orders = self._orders(condition.within_days).where(self._has_line(condition.product))
        return subscribers.c.phone.in_(orders)

    def _has_line(self, product: str) -> Where:
        """An order's line items hold one whose title, product id or SKU is `product`."""
        if self.dialect == "postgresql":
            lines = cast(store_events.c.properties["line_items"], JSONB)
            return or_(
                *(lines.contains(cast(literal([{key: product}], JSONB), JSONB)) for key in _PRODUCT_KEYS)
            )
        items = func.json_each(store_events.c.properties, "$.line_items").table_valued("value")
        named = or_(*(func.json_extract(items.c.value, f"$.{key}") == product for key in _PRODUCT_KEYS))
        return exists(select(literal(1)).select_from(items).where(named))


_PRODUCT_KEYS = ("title", "product_id", "sku")


def _campaign_ids(name: str) -> Select[Any]:
    return select(campaigns.c.id).where(campaigns.c.name == name)


def _typed(element: Any, sample: Any) -> Any:
    if isinstance(sample, bool):
        return element.as_boolean()
    if isinstance(sample, int | float):
        return element.as_float()
    return element.as_string()


_LEAVES = {
    Property: Compiler._property,
    DateWithin: Compiler._date_within,
    Subscribed: Compiler._subscribed,
    Texted: Compiler._texted,
    Engaged: Compiler._engaged,
    Clicked: Compiler._clicked,
    ReceivedCampaign: Compiler._received,
    InFlow: Compiler._in_flow,
    PlacedOrder: Compiler._placed_order,
    Spent: Compiler._spent,
    StartedCheckout: Compiler._started_checkout,
    OrderedProduct: Compiler._ordered_product,
}


def where(
    condition: Condition, dialect: str, segments: Mapping[str, Segment], now: datetime, zone: tzinfo = UTC
) -> Where:
    """The condition as a WHERE clause over `subscribers`."""
    return Compiler(dialect, segments, now, zone).where(condition)


def count(
    conn: Connection, segment: Segment, segments: Mapping[str, Segment], now: datetime, zone: tzinfo = UTC
) -> tuple[int, int]:
    """(members, of them subscribed): campaigns only ever reach the subscribed."""
    for_segments(conn)
    member = where(segment.condition, conn.dialect.name, segments, now, zone)
    subscribed = subscribers.c.status == "subscribed"
    found = conn.execute(
        select(func.count(), func.count().filter(subscribed)).select_from(subscribers).where(member)
    ).one()
    return int(found[0]), int(found[1])


# PostgreSQL answers "id IN (the subscribers who did X)" under an OR or a NOT with a hashed subplan
# only when the set fits in work_mem (4 MB by default: some 100,000 subscribers); past that it runs
# the subquery again for every subscriber, and a million-subscriber count takes minutes instead of a
# second. Parallel workers would each build the same hash again, so they are off for these queries.
_POSTGRESQL_SEGMENT_SETTINGS = (
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL max_parallel_workers_per_gather = 0",
)


def for_segments(conn: Connection) -> None:
    """Settings for evaluating segments on this connection's transaction (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        for statement in _POSTGRESQL_SEGMENT_SETTINGS:
            conn.exec_driver_sql(statement)
