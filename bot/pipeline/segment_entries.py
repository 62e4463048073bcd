"""`trigger: {enters: vip}`: a flow started when someone newly matches a segment.

The worker looks at each such segment every few minutes (with the date triggers) and compares its
subscribed members with those it saw the last time (kept in `segment_entries`); each newcomer's run
of the flow starts. The first look at a segment only notes who is in it: nobody already in it when
the automation is added is texted for it. Someone who leaves and comes back enters again (one run
at a time, as for any flow). An import texts nobody: whoever a list brings into a watched segment
is noted as in it by the import itself (`note_imported`), so no look takes them for a newcomer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from bot.domain.flow_runner import first_state
from bot.domain.flows import Flow
from bot.domain.model import Program
from bot.domain.subscription import Status
from bot.store import rows
from bot.store.schema import segment_entries, segment_watches, subscribers
from bot.store.segments import where
from bot.store.statements import START_RUN


def _entering(flows: Mapping[str, Flow]) -> dict[str, list[Flow]]:
    by_segment: dict[str, list[Flow]] = {}
    for flow in flows.values():
        if flow.automation.enters is not None:
            by_segment.setdefault(flow.automation.enters, []).append(flow)
    return by_segment


def start_entered(conn: Connection, program: Program, now: datetime) -> int:
    """Note who entered and left each watched segment since the last look; start the flows of
    those who entered. The runs started."""
    started = 0
    for name, flows in _entering(program.flows).items():
        entered = _look(conn, program, name, now)
        if not entered:
            continue
        event = {"type": "entered", "segment": name}
        runs = [
            rows.new_run(person, flow.name, first_state(flow, event, now), f"segment:{name}", now)
            for flow in flows
            for person in entered
        ]
        started += conn.execute(START_RUN[conn.dialect.name], runs).rowcount
    return started


def _look(conn: Connection, program: Program, name: str, now: datetime) -> list[int]:
    """The segment's subscribed members who were not in it at the last look (none at the first),
    the members kept for the next."""
    segment = program.segments.get(name)
    if segment is None:
        return []
    member = where(segment.condition, conn.dialect.name, program.segments, now, program.info.zone)
    subscribed = subscribers.c.status == Status.SUBSCRIBED.value
    now_in = set(conn.scalars(select(subscribers.c.id).where(member, subscribed)))
    theirs = segment_entries.c.segment == name
    before = set(conn.scalars(select(segment_entries.c.subscriber_id).where(theirs)))
    entered, left = sorted(now_in - before), sorted(before - now_in)
    if left:
        conn.execute(delete(segment_entries).where(theirs, segment_entries.c.subscriber_id.in_(left)))
    if entered:
        conn.execute(
            insert(segment_entries), [{"segment": name, "subscriber_id": i, "at": now} for i in entered]
        )
    if conn.scalar(select(segment_watches.c.segment).where(segment_watches.c.segment == name)) is None:
        conn.execute(insert(segment_watches).values(segment=name, since=now))
        return []  # the first look: those already in it are not newcomers
    return entered


def note_imported(conn: Connection, program: Program, ids: Sequence[int], now: datetime) -> None:
    """Subscribers an import wrote who are now in a watched segment, noted as in it already."""
    if not ids:
        return
    watched = set(conn.scalars(select(segment_watches.c.segment)))
    for name in _entering(program.flows):
        segment = program.segments.get(name)
        if segment is None or name not in watched:
            continue  # before the first look, everyone in it is noted by the look itself
        member = where(segment.condition, conn.dialect.name, program.segments, now, program.info.zone)
        noted = select(segment_entries.c.subscriber_id).where(segment_entries.c.segment == name)
        newly = conn.scalars(
            select(subscribers.c.id).where(
                subscribers.c.id.in_(list(ids)),
                subscribers.c.status == Status.SUBSCRIBED.value,
                member,
                subscribers.c.id.not_in(noted),
            )
        ).all()
        if newly:
            conn.execute(
                insert(segment_entries), [{"segment": name, "subscriber_id": i, "at": now} for i in newly]
            )
