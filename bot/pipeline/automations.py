"""What stored store events do to flows, in the transaction that stores them: an exit event ends the
subscriber's runs of the flows it ends (and cancels what they still had queued); a trigger starts
a flow for a subscribed subscriber, unless its `at_most` limit was reached or the exit came already.
The worker steps the started runs from their first step, as it does any run due now."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.engine import Connection

from bot.domain.automations import allowed, run_event
from bot.domain.flow_runner import first_state
from bot.domain.flows import Flow
from bot.domain.store_events import StoreEvent
from bot.domain.subscription import Status
from bot.pipeline.changes import lock_subscribers
from bot.store import rows
from bot.store.schema import RUN_IS_ACTIVE, flow_runs, messages, store_events
from bot.store.statements import START_RUN

_ACTIVE = select(flow_runs.c.id).where(
    tuple_(flow_runs.c.subscriber_id, flow_runs.c.flow).in_(bindparam("pairs", expanding=True)), RUN_IS_ACTIVE
)
_END_RUNS = (
    update(flow_runs)
    .where(flow_runs.c.id.in_(bindparam("ids", expanding=True)))
    .values(status="cancelled", ended_at=bindparam("now"), updated_at=bindparam("now"), due_at=None)
)
_CANCEL_QUEUED = (
    update(messages)
    .where(messages.c.run_id.in_(bindparam("ids", expanding=True)), messages.c.status == "pending")
    .values(status="cancelled", updated_at=bindparam("now"))
)
_LAST_STARTED = (
    select(flow_runs.c.subscriber_id, flow_runs.c.flow, func.max(flow_runs.c.started_at).label("at"))
    .where(flow_runs.c.subscriber_id.in_(bindparam("ids", expanding=True)))
    .where(flow_runs.c.flow.in_(bindparam("flows", expanding=True)))
    .group_by(flow_runs.c.subscriber_id, flow_runs.c.flow)
)
_LAST_EVENT = (
    select(
        store_events.c.subscriber_id, store_events.c.type, func.max(store_events.c.occurred_at).label("at")
    )
    .where(store_events.c.subscriber_id.in_(bindparam("ids", expanding=True)))
    .where(store_events.c.type.in_(bindparam("types", expanding=True)))
    .group_by(store_events.c.subscriber_id, store_events.c.type)
)


@dataclass(frozen=True)
class Automated:
    started: int = 0  # runs started
    ended: int = 0  # runs ended by an exit event


def automate(
    conn: Connection, stored: Sequence[tuple[StoreEvent, int]], flows: Mapping[str, Flow], now: datetime
) -> Automated:
    """`stored`: the events just stored, each with its subscriber's id."""
    automated = [f for f in flows.values() if f.automation.trigger or f.automation.exit_when]
    if not stored or not automated:
        return Automated()
    people = lock_subscribers(conn, {s for _, s in stored})  # the worker steps runs under the same lock
    ended = _end(conn, stored, automated, now)
    starts = [
        (event, sid, flow)
        for event, sid in sorted(stored, key=lambda pair: pair[0].occurred_at)
        for flow in automated
        if flow.automation.trigger is not None
        and flow.automation.trigger.matches(event)
        and people[sid]["status"] == Status.SUBSCRIBED.value
    ]
    return Automated(_start(conn, starts, now), ended)


def _end(
    conn: Connection, stored: Sequence[tuple[StoreEvent, int]], flows: Sequence[Flow], now: datetime
) -> int:
    pairs = sorted(
        {(sid, f.name) for event, sid in stored for f in flows if event.type in f.automation.exit_when}
    )
    if not pairs:
        return 0
    ids = list(conn.scalars(_ACTIVE, {"pairs": pairs}))
    if ids:
        conn.execute(_CANCEL_QUEUED, {"ids": ids, "now": now})
        conn.execute(_END_RUNS, {"ids": ids, "now": now})
    return len(ids)


def _start(conn: Connection, starts: Sequence[tuple[StoreEvent, int, Flow]], now: datetime) -> int:
    if not starts:
        return 0
    subscribers = sorted({sid for _, sid, _ in starts})
    names = sorted({flow.name for _, _, flow in starts})
    exits = sorted({t for _, _, flow in starts for t in flow.automation.exit_when})
    started_at = {
        (r.subscriber_id, r.flow): r.at
        for r in conn.execute(_LAST_STARTED, {"ids": subscribers, "flows": names})
    }
    exited = _last_events(conn, subscribers, exits)
    new = []
    for event, sid, flow in starts:
        since = [exited.get((sid, t)) for t in flow.automation.exit_when]
        if not allowed(flow.automation, event, started_at.get((sid, flow.name)), since, now):
            continue
        started_at[(sid, flow.name)] = now
        state = first_state(flow, run_event(event), now)
        new.append(rows.new_run(sid, flow.name, state, f"event:{event.type}", now))
    if new:  # a flow already running for the subscriber is not started twice
        conn.execute(START_RUN[conn.dialect.name], new)
    return len(new)


def _last_events(
    conn: Connection, subscribers: Iterable[int], types: list[str]
) -> dict[tuple[int, str], datetime]:
    if not types:
        return {}
    found = conn.execute(_LAST_EVENT, {"ids": list(subscribers), "types": types})
    return {(r.subscriber_id, r.type): r.at for r in found}


def exited(conn: Connection, runs: Sequence[Mapping[Any, Any]], flows: Mapping[str, Flow]) -> set[int]:
    """The ids of the runs among `runs` whose exit event came at or after the event that started
    them (an order placed since the checkout began)."""
    watched = [
        (run, flows[run["flow"]].automation.exit_when)
        for run in runs
        if run["flow"] in flows and flows[run["flow"]].automation.exit_when and run.get("event")
    ]
    if not watched:
        return set()
    types = sorted({t for _, exits in watched for t in exits})
    last = _last_events(conn, {run["subscriber_id"] for run, _ in watched}, types)
    ended = set()
    for run, exits in watched:
        began = _began(run["event"])
        if began is not None and any(
            (at := last.get((run["subscriber_id"], t))) and at >= began for t in exits
        ):
            ended.add(run["id"])
    return ended


def _began(event: Mapping[Any, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(event.get("occurred_at")))
    except ValueError:
        return None
