"""The worker's sending transactions: claim what may go now, then record what the carrier said.

A message is handed to the carrier only after a transaction moved it from `pending` to
`dispatching`; a worker killed in between leaves it `dispatching`, and after the lease another
worker asks the carrier whether it arrived before sending again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from bot.channels.base import SendResult
from bot.domain.delivery import DISPATCHING, PENDING, moves_forward
from bot.domain.flows import Flow
from bot.domain.gate import Cancel, Hold, may_send
from bot.domain.quiet_hours import QuietHours
from bot.pipeline.gating import HandOver, Queued, recipient
from bot.pipeline.statuses import carrier_opt_outs
from bot.store.bulk import executemany
from bot.store.schema import flow_runs, messages, subscribers

RETRY_BASE = 2.0  # seconds; doubled per attempt
RETRY_MAX = 300.0


@dataclass(frozen=True)
class Claimed:
    id: int
    ref: str
    to: str
    body: str
    media_urls: tuple[str, ...]
    attempts: int
    recovering: bool  # a worker died while handing it over: ask the carrier before sending again
    since: datetime  # when it was last marked dispatching
    purpose: str = "marketing"  # why it exists, as the gate reads it (for the metrics)
    due: datetime | None = None  # not before: its lateness is measured from here
    started_by: str | None = None  # its flow run's cause: the MessageSid that started it, "event:..."


@dataclass
class Claims:
    ready: list[Claimed]
    later: dict[int, datetime]  # not now (quiet hours, in flight elsewhere): look again then
    dropped: list[int]  # cancelled or already sent: forget them


_OUTBOX_ROWS = (
    select(
        messages.c.id,
        messages.c.ref,
        messages.c.body,
        messages.c.media_urls,
        messages.c.status,
        messages.c.purpose,
        messages.c.attempts,
        messages.c.send_after,
        messages.c.created_at,
        messages.c.updated_at,
        messages.c.run_id,
        messages.c.campaign_id,
        messages.c.subscriber_id,
        subscribers.c.phone,
        subscribers.c.country,
        subscribers.c.status.label("subscriber_status"),
        subscribers.c.unsubscribed_at,
        flow_runs.c.flow,
        flow_runs.c.event,
        flow_runs.c.started_by,
    )
    .join(subscribers, subscribers.c.id == messages.c.subscriber_id)
    .outerjoin(flow_runs, flow_runs.c.id == messages.c.run_id)  # its run's exit may have come
    .where(messages.c.id.in_(bindparam("ids", expanding=True)))
)
_CANCEL = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(status="cancelled", reason=bindparam("b_reason"), updated_at=bindparam("b_now"))
)
_HOLD = update(messages).where(messages.c.id == bindparam("b_id")).values(send_after=bindparam("b_until"))


def claim(
    conn: Connection,
    ids: Sequence[int],
    quiet: QuietHours,
    now: datetime,
    lease: timedelta,
    flows: Mapping[str, Flow] | None = None,
    waits: timedelta = timedelta(0),
) -> Claims:
    """Move each message the gate lets go now to `dispatching`; say when to look at the others.
    A message `dispatching` for longer than `lease` without a sign of life is taken over."""
    query = _OUTBOX_ROWS
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=messages)  # a STOP's cancel waits for us, or we for it
    claims = Claims([], {}, [])
    rows = conn.execute(query, {"ids": list(ids)}).all()
    found = {row.id for row in rows}
    # Flow steps before campaign messages: a campaign's smart sending counts a step handed over
    # in the same batch (the step is a conversation under way; the campaign can skip them).
    live = sorted(
        (row for row in rows if row.status in (PENDING, DISPATCHING)),
        key=lambda row: (row.campaign_id is not None, row.id),
    )
    claims.dropped += [row.id for row in rows if row.status not in (PENDING, DISPATCHING)]
    facts = HandOver(conn, [_queued(row) for row in live], flows or {}, now, waits)
    cancelled: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for row in live:
        if row.status == DISPATCHING and row.updated_at + lease > now:
            claims.later[row.id] = row.updated_at + lease  # another worker is handing it over right now
            continue
        if row.send_after is not None and row.send_after > now:
            claims.later[row.id] = row.send_after
            continue
        queued = _queued(row)
        verdict = may_send(
            facts.outgoing(queued), recipient(dict(row._mapping)), facts.since(queued), quiet, now
        )
        if isinstance(verdict, Cancel):
            cancelled.append({"b_id": row.id, "b_reason": verdict.reason.value, "b_now": now})
        elif isinstance(verdict, Hold):  # held by the rate until the window closed: wait for it to open
            claims.later[row.id] = verdict.until
            held.append({"b_id": row.id, "b_until": verdict.until})
        else:
            claims.ready.append(_claimed(row))
            facts.handing(queued, now)
    executemany(conn, _CANCEL, cancelled)
    executemany(conn, _HOLD, held)
    if claims.ready:
        conn.execute(
            update(messages)
            .where(messages.c.id.in_([c.id for c in claims.ready]))
            .values(status=DISPATCHING, attempts=messages.c.attempts + 1, updated_at=now)
        )
    claims.dropped += [i for i in ids if i not in found] + [c["b_id"] for c in cancelled]
    return claims


def _queued(row: Any) -> Queued:
    run = None
    if row.run_id is not None and row.flow is not None:
        run = {"id": row.run_id, "subscriber_id": row.subscriber_id, "flow": row.flow, "event": row.event}
    return Queued(row.id, row.subscriber_id, row.purpose, row.created_at, row.campaign_id, run)


def _claimed(row: Any) -> Claimed:
    return Claimed(
        id=row.id,
        ref=row.ref,
        to=row.phone,
        body=row.body,
        media_urls=tuple(row.media_urls or ()),
        attempts=row.attempts,
        recovering=row.status == DISPATCHING,
        since=row.updated_at,
        purpose=row.purpose or "marketing",
        due=row.send_after,
        started_by=row.started_by,
    )


@dataclass(frozen=True)
class Recorded:
    retry_at: dict[int, datetime]  # tried again then
    opted_out: int  # subscribers the carrier reported as opted out


def renew(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    """A living worker's hand-overs are still under way: their lease starts again now."""
    conn.execute(
        update(messages)
        .where(messages.c.id.in_(list(ids)), messages.c.status == DISPATCHING)
        .values(updated_at=now)
    )


def record_results(
    conn: Connection,
    results: Sequence[tuple[Claimed, SendResult]],
    now: datetime,
    max_attempts: int,
    lease: timedelta,
) -> Recorded:
    """Store what the carrier said about each message handed over. One it never answered stays
    `dispatching`: after a lease it is looked up at the carrier, never simply sent again."""
    retry_at: dict[int, datetime] = {}
    refused: list[tuple[int, int | None]] = []  # (message id, error code): opted out at the carrier
    ids = [claimed.id for claimed, _ in results]
    # Locked on PostgreSQL: a status callback committed between this read and the update below
    # (the carrier can report a failure before its API answered us) would be overwritten.
    query = _CURRENT.with_for_update() if conn.dialect.name == "postgresql" else _CURRENT
    current = dict(conn.execute(query, {"ids": ids}).all())
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # one executemany per shape of change
    for claimed, result in results:
        values: dict[str, Any] = {"updated_at": now}
        if result.sid is not None:
            values.update(sid=result.sid, handed_at=now)
            # A status callback may already have told more than the API's first answer.
            if moves_forward(result.status, current.get(claimed.id)):
                values.update(status=result.status, error_code=result.error_code)
        elif result.unknown:
            retry_at[claimed.id] = now + lease  # values: updated_at=now, the lease starts again
        elif result.retry and claimed.attempts + 1 < max_attempts:
            retry_at[claimed.id] = now + timedelta(seconds=min(RETRY_MAX, RETRY_BASE * 2**claimed.attempts))
            values.update(status=PENDING, send_after=retry_at[claimed.id], error_code=result.error_code)
        else:
            values.update(status="failed", error_code=result.error_code)
            if result.opted_out:
                refused.append((claimed.id, result.error_code))
        changes.setdefault(tuple(sorted(values)), []).append({"message_id": claimed.id, **values})
    for shape, rows in changes.items():
        conn.execute(_update_messages(shape), rows)
    return Recorded(retry_at, carrier_opt_outs(conn, refused, now))


_CURRENT = (
    select(messages.c.id, messages.c.status)
    .where(messages.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(messages.c.id)  # rows locked in one order by every transaction that locks several
)


def _update_messages(shape: tuple[str, ...]) -> Any:
    return (
        update(messages)
        .where(messages.c.id == bindparam("message_id"))
        .values({name: bindparam(name) for name in shape})
    )


def known_sids(conn: Connection, sids: Sequence[str]) -> set[str]:
    """Which of these carrier message ids are already stored (recovery must not adopt them twice)."""
    if not sids:
        return set()
    return set(conn.scalars(select(messages.c.sid).where(messages.c.sid.in_(list(sids)))))
