"""Date-triggered flows started: the worker looks every few minutes for subscribers whose date
property (a birthday) falls today in their zone, and starts the flow's run for this year, due at
the trigger's time of day there. A run is keyed by the year, so looking again starts nothing twice
(the database's unique key on runs, not a read, refuses a second)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.domain.date_triggers import DateTrigger, candidates_endings, due_today, next_day
from bot.domain.flow_runner import first_state
from bot.domain.flows import Flow
from bot.domain.quiet_hours import QuietHours
from bot.domain.subscription import Status
from bot.store import rows
from bot.store.schema import subscribers
from bot.store.statements import START_RUN


def _candidates(conn: Connection, trigger: DateTrigger, now: datetime) -> Any:
    """Subscribed people whose date ends with a month-day that is today somewhere on Earth."""
    value = subscribers.c.properties[trigger.property].as_string()
    tail = func.right(value, 5) if conn.dialect.name == "postgresql" else func.substr(value, -5)
    return conn.execute(
        select(subscribers.c.id, subscribers.c.phone, value.label("value")).where(
            subscribers.c.status == Status.SUBSCRIBED.value, tail.in_(candidates_endings(now))
        )
    )


def start_dated(conn: Connection, flows: Mapping[str, Flow], quiet: QuietHours, now: datetime) -> int:
    """Start this year's run of each date-triggered flow for whoever's day it is; the runs started."""
    started = 0
    for flow in flows.values():
        trigger = flow.automation.on_date
        if trigger is None:
            continue
        new = []
        for person in _candidates(conn, trigger, now):
            due = due_today(trigger, person.value, quiet.zones(person.phone)[0], now)
            if due is None:
                continue
            event = {"type": "date", "property": trigger.property, "date": due.on.isoformat()}
            state = first_state(flow, event, due.at, f"{trigger.property}:{due.key}")
            new.append(rows.new_run(person.id, flow.name, state, f"date:{trigger.property}", now))
        if new:
            started += conn.execute(START_RUN[conn.dialect.name], new).rowcount
    return started


def start_next(
    conn: Connection, subscriber_id: int, flows: Mapping[str, Flow], quiet: QuietHours, now: datetime
) -> list[str]:
    """`smsbot chat`'s /skip: each date-triggered flow brought forward for one subscriber, due now,
    keyed for the year of their next day (so the real worker does not send it again that year);
    what was started, said."""
    person = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).mappings().first()
    if person is None or person["status"] != Status.SUBSCRIBED.value:
        return []
    said = []
    for flow in flows.values():
        trigger = flow.automation.on_date
        value = (person["properties"] or {}).get(trigger.property) if trigger is not None else None
        day = next_day(str(value), quiet.zones(person["phone"])[0], now) if trigger and value else None
        if trigger is None or day is None:
            continue
        event = {"type": "date", "property": trigger.property, "date": day.isoformat()}
        state = first_state(flow, event, now, f"{trigger.property}:{day.year}")
        row = rows.new_run(subscriber_id, flow.name, state, f"date:{trigger.property}", now)
        if conn.execute(START_RUN[conn.dialect.name], [row]).rowcount:
            said.append(f"flow {flow.name} brought forward from {day:%Y-%m-%d} ({trigger.property})")
    return said
