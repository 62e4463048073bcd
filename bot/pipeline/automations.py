"""What stored store events do to flows, in the transaction that stores them: an exit event ends the
subscriber's runs of the flows it ends and cancels what those runs still had queued (a run whose
steps are done may still have a message held by quiet hours); a trigger starts a flow for a
subscribed subscriber, unless the event is stale, its `at_most` limit was reached, the exit came
already, or (a flow run once per event) that event's run exists. Imported history starts nothing
unless asked. The worker steps the started runs from their first step, as it does any run due now."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, tuple_, update
from sqlalchemy.engine import Connection

from bot.domain.automations import NotStarted, refusal, run_event, run_key
from bot.domain.flow_runner import first_state, lead_time
from bot.domain.flows import Flow
from bot.domain.gate import Reason
from bot.domain.store_events import StoreEvent
from bot.domain.subscription import Status
from bot.pipeline.changes import lock_subscribers
from bot.store import rows
from bot.store.schema import RUN_IS_ACTIVE, flow_runs, messages, store_events
from bot.store.statements import START_RUN

_PENDING_RUNS = select(messages.c.run_id).where(
    messages.c.subscriber_id.in_(bindparam("ids", expanding=True)),
    messages.c.status == "pending",
    messages.c.run_id.is_not(None),
)
# The runs an exit event may end: active ones, and ended ones with a message still queued.
_EXITABLE = select(
    flow_runs.c.id, flow_runs.c.subscriber_id, flow_runs.c.flow, flow_runs.c.status, flow_runs.c.event
).where(
    tuple_(flow_runs.c.subscriber_id, flow_runs.c.flow).in_(bindparam("pairs", expanding=True)),
    or_(RUN_IS_ACTIVE, flow_runs.c.id.in_(_PENDING_RUNS)),
)
_END_RUNS = (
    update(flow_runs)
    .where(flow_runs.c.id.in_(bindparam("ids", expanding=True)), RUN_IS_ACTIVE)
    .values(status="cancelled", ended_at=bindparam("now"), updated_at=bindparam("now"), due_at=None)
)
_CANCEL_QUEUED = (
    update(messages)
    .where(messages.c.run_id.in_(bindparam("ids", expanding=True)), messages.c.status == "pending")
    .values(status="cancelled", reason=Reason.EXITED.value, updated_at=bindparam("now"))
)
_LAST_STARTED = (
    select(flow_runs.c.subscriber_id, flow_runs.c.flow, func.max(flow_runs.c.started_at).label("at"))
    .where(flow_runs.c.subscriber_id.in_(bindparam("ids", expanding=True)))
    .where(flow_runs.c.flow.in_(bindparam("flows", expanding=True)))
    .group_by(flow_runs.c.subscriber_id, flow_runs.c.flow)
)
# Runs a new run would repeat: that event's run (any status), or the flow running already.
_TAKEN = select(flow_runs.c.subscriber_id, flow_runs.c.flow, flow_runs.c.run_key).where(
    tuple_(flow_runs.c.subscriber_id, flow_runs.c.flow, flow_runs.c.run_key).in_(
        bindparam("names", expanding=True)
    ),
    or_(flow_runs.c.run_key != "", RUN_IS_ACTIVE),
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
    ended: int = 0  # runs ended (or their queued messages cancelled) by an exit event
    not_started: Mapping[str, int] = field(default_factory=dict)  # NotStarted reason -> events


def automate(
    conn: Connection,
    stored: Sequence[tuple[StoreEvent, int]],
    flows: Mapping[str, Flow],
    now: datetime,
    *,
    start: bool = True,
) -> Automated:
    """`stored`: the events just stored, each with its subscriber's id. `start` False: history
    (an import), which ends runs as it should but starts none."""
    automated = [f for f in flows.values() if f.automation.trigger or f.automation.exit_when]
    if not stored or not automated:
        return Automated()
    people = lock_subscribers(conn, {s for _, s in stored})  # the worker steps runs under the same lock
    ended = _end(conn, stored, automated, now)
    starts = [
        (event, sid, flow)
        for event, sid in sorted(stored, key=lambda pair: pair[0].occurred_at)
        for flow in automated
        if flow.automation.trigger is not None and flow.automation.trigger.matches(event)
    ]
    refused: Counter[str] = Counter()
    if not start:
        refused[NotStarted.HISTORY] += len(starts)
        return Automated(0, ended, dict(refused))
    subscribed = [s for s in starts if people[s[1]]["status"] == Status.SUBSCRIBED.value]
    refused[NotStarted.NOT_SUBSCRIBED] += len(starts) - len(subscribed)
    started = _start(conn, subscribed, now, refused)
    return Automated(started, ended, dict(refused))


def _end(
    conn: Connection, stored: Sequence[tuple[StoreEvent, int]], flows: Sequence[Flow], now: datetime
) -> int:
    """Runs whose exit event came (at or after the event that started them) end; what they had
    queued is cancelled, whether or not their steps were done."""
    exits: dict[tuple[int, str], dict[str, datetime]] = {}  # (subscriber, flow) -> type -> latest
    for event, sid in stored:
        for flow in flows:
            if event.type in flow.automation.exit_when:
                latest = exits.setdefault((sid, flow.name), {})
                latest[event.type] = max(event.occurred_at, latest.get(event.type, event.occurred_at))
    if not exits:
        return 0
    found = conn.execute(
        _EXITABLE, {"pairs": sorted(exits), "ids": sorted({sid for sid, _ in exits})}
    ).mappings()
    automation = {flow.name: flow.automation for flow in flows}
    ids = []
    for run in found:
        began = _began(run["event"]) if run["event"] else None
        came = exits[(run["subscriber_id"], run["flow"])].items()
        if began is None or any(automation[run["flow"]].ends(t, at, began) for t, at in came):
            ids.append(run["id"])
    if ids:
        conn.execute(_CANCEL_QUEUED, {"ids": ids, "now": now})
        conn.execute(_END_RUNS, {"ids": ids, "now": now})
    return len(ids)


def _start(
    conn: Connection, starts: Sequence[tuple[StoreEvent, int, Flow]], now: datetime, refused: Counter[str]
) -> int:
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
    keyed = [(sid, flow.name, run_key(flow.automation, event)) for event, sid, flow in starts]
    taken = {tuple(row) for row in conn.execute(_TAKEN, {"names": sorted(set(keyed))})}
    new = []
    for (event, sid, flow), name in zip(starts, keyed, strict=True):
        since = [(t, exited.get((sid, t))) for t in flow.automation.exit_when]
        fresh = flow.automation.freshness(lead_time(flow))
        why = refusal(flow.automation, event, started_at.get((sid, flow.name)), since, now, fresh)
        if why is None and name in taken:
            why = NotStarted.ALREADY_RAN
        if why is not None:
            refused[why] += 1
            continue
        started_at[(sid, flow.name)] = now
        taken.add(name)
        state = first_state(flow, run_event(event), _begins(flow, event, now), name[2])
        new.append(rows.new_run(sid, flow.name, state, f"event:{event.type}", now))
    if new:  # a flow already running for the subscriber is not started twice (the database agrees)
        conn.execute(START_RUN[conn.dialect.name], new)
    return len(new)


def _begins(flow: Flow, event: StoreEvent, now: datetime) -> datetime:
    """When a run begins: now, or its trigger's delay after the event (a win-back's 60 days,
    counted from the order's own time)."""
    trigger = flow.automation.trigger
    delay = trigger.delay if trigger is not None else timedelta(0)
    return max(now, event.occurred_at + delay) if delay else now


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
        automation = flows[run["flow"]].automation
        if began is not None and any(
            automation.ends(t, last.get((run["subscriber_id"], t)), began) for t in exits
        ):
            ended.add(run["id"])
    return ended


def _began(event: Mapping[Any, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(event.get("occurred_at")))
    except ValueError:
        return None
