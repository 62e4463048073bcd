"""Automations: flows a store event starts (`trigger`), ends (`exit_when`) and limits (`at_most`).

    flows:
      abandoned_checkout:
        trigger: {event: checkout_started, where: {total_price: {greater: 0}}}
        exit_when: {event: order_placed}
        at_most: once per 48h
        steps: [...]
      order_confirmation:
        trigger: {event: order_placed}
        per: event.order_ref                 each order its own run, once
        fresh_for: 6h                        an older order starts nothing (default: waits + 1h/6h)

Pure: which flows an event starts or ends for a subscriber, and what a run keeps of its event for
its messages (`{{ event.total_price | currency(event.currency) }}`) and its splits (`on: event.total_price`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.date_triggers import DateTrigger
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
    # `{after: order_placed, days: 60}`: the run begins this long after the event's own time
    delay: timedelta = timedelta(0)

    def matches(self, event: StoreEvent) -> bool:
        return event.type == self.event and all(c.holds(event.properties) for c in self.where)


# How late an event may still start its automation, beyond the waits before the flow's first
# message: a cart reminder is never sent for a checkout older than its own hour and this; an order's
# news may come this late (a store's webhook retried, a server down for a while), not days late.
FRESH_MARGIN = timedelta(hours=1)
FRESH_MARGIN_TRANSACTIONAL = timedelta(hours=6)


@dataclass(frozen=True)
class Automation:
    trigger: Trigger | None = None
    exit_when: frozenset[str] = field(default_factory=frozenset)  # event types that end a run
    at_most: timedelta | None = None  # at most one run started per subscriber in this time
    transactional: bool = False  # an order's or a shipment's news: not held by quiet hours
    per: str | None = None  # run once per event key (`per: event.order_id`): the event's field
    fresh_for: timedelta | None = None  # an event older than this starts nothing (None: the default)
    on_date: DateTrigger | None = None  # `{date: birthday, at: "10:00"}`: once a year, not on an event
    enters: str | None = None  # `{enters: vip}`: when someone newly matches this segment

    def freshness(self, waits: timedelta) -> timedelta:
        """How old an event may be and still start the flow, whose first message comes after `waits`
        (and after the trigger's own delay)."""
        if self.fresh_for is not None:
            return self.fresh_for
        delay = self.trigger.delay if self.trigger is not None else timedelta(0)
        return waits + delay + (FRESH_MARGIN_TRANSACTIONAL if self.transactional else FRESH_MARGIN)

    @property
    def starts_on(self) -> str | None:
        """What starts it, said: "checkout_started", "60 days after order_placed", "birthday at 10:00"."""
        if self.on_date is not None:
            return f"{self.on_date.property} at {self.on_date.at:%H:%M}"
        if self.enters is not None:
            return f"entering segment {self.enters}"
        if self.trigger is None:
            return None
        days = self.trigger.delay / timedelta(days=1)
        return f"{days:g} days after {self.trigger.event}" if days else self.trigger.event

    def ends(self, exit_type: str, at: datetime | None, began: datetime) -> bool:
        """Whether an exit event of `exit_type` at `at` ends a run whose event was at `began`: one
        at or after it; one of the very type that starts the flow (a win-back's next order) only
        when later, or the order that started it would end it."""
        if at is None:
            return False
        if self.trigger is not None and exit_type == self.trigger.event:
            return at > began
        return at >= began


class NotStarted:
    """Why a matching event started no run (counted, and said by `smsbot events import`)."""

    AT_MOST = "at_most"  # a run started for them within `at_most`
    EXITED = "exited"  # the exit event came at or after it (an order before the checkout's webhook)
    STALE = "stale"  # older than the automation's freshness
    HISTORY = "history"  # imported history, automations not asked for
    NOT_SUBSCRIBED = "not_subscribed"
    ALREADY_RAN = "already_ran"  # a run for that event key (or a run of the flow is under way)


def refusal(
    automation: Automation,
    event: StoreEvent,
    last_started: datetime | None,
    exits: Iterable[tuple[str, datetime | None]],
    now: datetime,
    freshness: timedelta | None = None,
) -> str | None:
    """Why this event (its trigger matched) may not start the flow, or None if it may. Not older
    than `freshness`; not within `at_most` of the last run started for the subscriber (a flow run
    once per event has its own limit: once per key); not when an exit event came at or after it (an
    order whose webhook arrived before the checkout's)."""
    if freshness is not None and event.occurred_at < now - freshness:
        return NotStarted.STALE
    if (
        automation.per is None
        and automation.at_most is not None
        and last_started is not None
        and last_started > now - automation.at_most
    ):
        return NotStarted.AT_MOST
    if any(automation.ends(kind, at, event.occurred_at) for kind, at in exits):
        return NotStarted.EXITED
    return None


def run_key(automation: Automation, event: StoreEvent) -> str:
    """The key of the run this event starts: '' for a flow run once at a time; for one run once per
    event, the event's `per` field (its order id), or the event's own id when it has none."""
    if automation.per is None:
        return ""
    value = event_value(run_event(event), automation.per)
    return str(value if value not in (None, "") else f"id:{event.external_id}")[:200]


def run_event(event: StoreEvent) -> dict[str, Any]:
    """What a run keeps of the event that started it, for its messages and splits."""
    return {
        **event.properties,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "order_ref": event.order_ref,
        "event_id": event.external_id,
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
