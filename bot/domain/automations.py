"""Automations: flows a store event starts (`trigger`), ends (`exit_when`) and limits (`at_most`).

    flows:
      abandoned_checkout:
        trigger: {event: checkout_started, where: {total_price: {greater: 0}}}
        exit_when: {event: order_placed}
        at_most: once per 48h
        steps: [...]

Pure: which flows an event starts or ends for a subscriber, and what a run keeps of its event for
its messages (`{{ event.total_price | currency(event.currency) }}`) and its splits (`on: event.total_price`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.store_events import StoreEvent

OPERATORS = ("equals", "one_of", "contains", "greater", "less", "is_set")
EVENT_PREFIX = "event."


@dataclass(frozen=True)
class EventCondition:
    """One condition on a property of the event: `total_price: {greater: 100}`."""

    name: str
    operator: str  # one of OPERATORS
    value: Any = None

    def holds(self, properties: Mapping[str, Any]) -> bool:
        found = properties.get(self.name)
        if self.operator == "is_set":
            return (found is not None and found not in ("", [])) == bool(self.value)
        if found is None:
            return False
        if self.operator == "equals":
            return _same(found, self.value)
        if self.operator == "one_of":
            return any(_same(found, v) for v in self.value)
        if self.operator == "contains":
            return isinstance(found, list) and any(_same(item, self.value) for item in found)
        number, limit = _number(found), _number(self.value)
        if number is None or limit is None:
            return False
        return number > limit if self.operator == "greater" else number < limit


@dataclass(frozen=True)
class Trigger:
    event: str  # the event type that starts the flow
    where: tuple[EventCondition, ...] = ()

    def matches(self, event: StoreEvent) -> bool:
        return event.type == self.event and all(c.holds(event.properties) for c in self.where)


@dataclass(frozen=True)
class Automation:
    trigger: Trigger | None = None
    exit_when: frozenset[str] = field(default_factory=frozenset)  # event types that end a run
    at_most: timedelta | None = None  # at most one run started per subscriber in this time
    transactional: bool = False  # an order's or a shipment's news: not held by quiet hours


def allowed(
    automation: Automation,
    event: StoreEvent,
    last_started: datetime | None,
    exits: Iterable[datetime | None],
    now: datetime,
) -> bool:
    """May this event (its trigger matched) start the flow? Not within `at_most` of the last run
    started for the subscriber, and not when an exit event came at or after it (an order whose
    webhook arrived before the checkout's)."""
    if (
        automation.at_most is not None
        and last_started is not None
        and last_started > now - automation.at_most
    ):
        return False
    return not any(at is not None and at >= event.occurred_at for at in exits)


def run_event(event: StoreEvent) -> dict[str, Any]:
    """What a run keeps of the event that started it, for its messages and splits."""
    return {
        **event.properties,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "order_ref": event.order_ref,
    }


def event_value(event: Mapping[str, Any] | None, on: str) -> Any:
    """A split's value for `on: event.<property>` (None outside an event's run)."""
    return (event or {}).get(on.removeprefix(EVENT_PREFIX))


def compare(value: Any, wanted: str) -> bool | None:
    """A split branch written as a comparison (`"> 100"`, `"<= 20"`): whether `value` passes it;
    None when the branch is not a comparison (it is matched as a value)."""
    for sign in (">=", "<=", ">", "<"):
        if wanted.startswith(sign):
            limit, number = _number(wanted[len(sign) :].strip()), _number(value)
            if limit is None:
                return None
            if number is None:
                return False
            return {
                ">=": number >= limit,
                "<=": number <= limit,
                ">": number > limit,
                "<": number < limit,
            }[sign]
    return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _same(found: Any, wanted: Any) -> bool:
    if found == wanted:
        return True
    number, other = _number(found), _number(wanted)
    if number is not None and other is not None:
        return number == other
    return str(found).casefold() == str(wanted).casefold()
