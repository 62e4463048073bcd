"""Segments compiled to SQL: a WHERE clause over `subscribers`, the same meaning on SQLite and
PostgreSQL (properties are JSON: read with json_extract on SQLite, ->> on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
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

from bot.domain.segments import All, AnyOf, Condition, InSegment, IsOneOf, Not, Op, Property, Segment, Texted
from bot.store.schema import keyword_events, subscribers

Where = ColumnElement[bool]


def where(condition: Condition, dialect: str, segments: Mapping[str, Segment], now: datetime) -> Where:
    """The condition as a WHERE clause over `subscribers`."""
    if isinstance(condition, All):
        return and_(true(), *(where(c, dialect, segments, now) for c in condition.conditions))
    if isinstance(condition, AnyOf):
        return or_(false(), *(where(c, dialect, segments, now) for c in condition.conditions))
    if isinstance(condition, Not):
        # Someone without the property is not in "vip = true": so they are in not: {vip}. SQL's
        # NULL would leave them out of both.
        return not_(func.coalesce(where(condition.condition, dialect, segments, now), false()))
    if isinstance(condition, IsOneOf):
        return subscribers.c[condition.field.value].in_(condition.values)
    if isinstance(condition, Property):
        return _property(condition, dialect)
    if isinstance(condition, Texted):
        return _texted(condition, now)
    assert isinstance(condition, InSegment)
    return where(segments[condition.name].condition, dialect, segments, now)


def _property(condition: Property, dialect: str) -> Where:
    element = subscribers.c.properties[condition.name]
    op, value = condition.op, condition.value
    if op is Op.IS_SET:
        present: Where = element.as_string().is_not(None)  # ->> and json_extract: any type, no cast
        return present if value else not_(present)
    if op is Op.CONTAINS:
        return _contains(condition.name, element, value, dialect)
    typed: ColumnElement[Any] = _typed(element, value[0] if op is Op.ONE_OF and value else value)
    compared: Where
    if op is Op.ONE_OF:
        compared = typed.in_(value)
    elif op is Op.GREATER:
        compared = typed > value
    elif op is Op.LESS:
        compared = typed < value
    else:
        compared = typed == value
    return compared


def _typed(element: Any, sample: Any) -> Any:
    if isinstance(sample, bool):
        return element.as_boolean()
    if isinstance(sample, int | float):
        return element.as_float()
    return element.as_string()


def _contains(name: str, element: Any, value: str, dialect: str) -> Where:
    """A list property holds `value`: JSONB containment on PostgreSQL, json_each on SQLite."""
    if dialect == "postgresql":
        return cast(element, JSONB).contains(cast(literal([value], JSONB), JSONB))
    path = '$."' + name.replace('"', '\\"') + '"'
    items = func.json_each(subscribers.c.properties, path).table_valued("value")
    return exists(select(literal(1)).select_from(items).where(items.c.value == value))


def _texted(condition: Texted, now: datetime) -> Where:
    matching = [
        keyword_events.c.subscriber_id == subscribers.c.id,
        keyword_events.c.keyword == condition.keyword,
    ]
    if condition.within_days is not None:
        matching.append(keyword_events.c.at >= now - timedelta(days=condition.within_days))
    times = select(func.count()).where(*matching).scalar_subquery()
    return times >= condition.at_least


def count(
    conn: Connection, segment: Segment, segments: Mapping[str, Segment], now: datetime
) -> tuple[int, int]:
    """(members, of them subscribed): campaigns only ever reach the subscribed."""
    member = where(segment.condition, conn.dialect.name, segments, now)
    subscribed = subscribers.c.status == "subscribed"
    found = conn.execute(
        select(func.count(), func.count().filter(subscribed)).select_from(subscribers).where(member)
    ).one()
    return int(found[0]), int(found[1])
