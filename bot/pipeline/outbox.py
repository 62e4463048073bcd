"""The worker's transactions: run due flow steps into the outbox, claim messages, record results.

Each function runs inside one write transaction (`WriteTransactions.run`). Exactly-once rests here,
not on Redis: a run's step and the outbound messages it produces are committed together, a run is
advanced only while it is due, and a message is handed to the carrier only after a transaction
moved it from `pending` to `dispatching`. Redis only says which ids to look at.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import OPTED_OUT_AT_CARRIER, SendResult
from bot.domain.compliance import Intent
from bot.domain.conversation import Policy, card_message
from bot.domain.flow_runner import (
    RunState,
    Send,
    SendCard,
    SetProperty,
    StartFlow,
    timed_out,
)
from bot.domain.matcher import Match
from bot.domain.model import Program
from bot.domain.properties import VCARD_RECEIVED
from bot.domain.quiet_hours import QuietHours
from bot.domain.subscription import Action, Status
from bot.domain.voice import Voice
from bot.pipeline.apply import CANCEL_OUTBOX, CANCEL_RUNS, START_RUN, subscriber_state
from bot.store.db import WRITE
from bot.store.schema import IN_OUTBOX, RUN_IS_ACTIVE, consent_events, flow_runs, messages, subscribers

PENDING, DISPATCHING = "pending", "dispatching"
# Twilio's callbacks can arrive out of order; a status never moves back down this ladder.
STATUS_RANK = {
    "pending": -2,  # in our outbox
    "dispatching": -1,  # being handed to the carrier's API
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
    "canceled": 4,
}
RETRY_BASE = 2.0  # seconds; doubled per attempt
RETRY_MAX = 300.0


@dataclass(frozen=True)
class Stepped:
    """What a batch of due runs became, for the queue: when to look at each run and message again."""

    runs: dict[int, datetime | None]  # run id -> next due (None: ended, cancelled, gone)
    messages: dict[int, datetime]  # new outbox message id -> send after
    started: int = 0  # flows started by `start` steps (due now; the feeder queues them)


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


@dataclass(frozen=True)
class Claims:
    ready: list[Claimed]
    later: dict[int, datetime]  # not now (quiet hours, in flight elsewhere): look again then
    dropped: list[int]  # cancelled or already sent: forget them


def _lock_subscribers(conn: Connection, subscriber_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    query = select(subscribers).where(subscribers.c.id.in_(subscriber_ids)).order_by(subscribers.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # the same rows the webhook locks: one writer per subscriber
    return {row["id"]: dict(row) for row in conn.execute(query).mappings()}


def run_due_steps(
    conn: Connection,
    run_ids: Sequence[int],
    program: Program,
    policy: Policy,
    quiet: QuietHours,
    now: datetime,
) -> Stepped:
    """Advance every due run among `run_ids` to its next pause, writing the messages it sends."""
    owners = list(
        conn.scalars(select(flow_runs.c.subscriber_id).where(flow_runs.c.id.in_(run_ids)).distinct())
    )
    people = _lock_subscribers(conn, owners) if owners else {}
    # By primary key alone (a status in the WHERE clause once led SQLite through an index of every
    # active run), and read in full before the loop below writes to the same rows.
    rows = [
        run
        for run in conn.execute(select(flow_runs).where(flow_runs.c.id.in_(run_ids))).mappings().all()
        if run["status"] == "active"
    ]
    rows.sort(key=lambda run: (run["due_at"] or now, run["id"]))
    nexts: dict[int, datetime | None] = dict.fromkeys(run_ids)
    outbox: list[dict[str, Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    started: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    ended: dict[str, list[int]] = {}
    for run in rows:
        person = people[run["subscriber_id"]]
        if run["due_at"] is None or run["due_at"] > now:
            nexts[run["id"]] = run["due_at"]  # moved on since it was queued (an answer came in)
            continue
        if person["status"] != Status.SUBSCRIBED.value:
            ended.setdefault("cancelled", []).append(run["id"])
            continue
        state = RunState(run["flow"], run["step"], run["waiting"], run["asked_again"], run["due_at"])
        subscriber = subscriber_state(person)
        went = timed_out(program, state, subscriber, now)
        voice = Voice(Match(Intent.OTHER), subscriber, program, {})
        for n, action in enumerate(went.actions):
            if isinstance(action, Send | SendCard):
                if isinstance(action, Send):
                    body, media = action.text, action.media
                else:
                    body, media = card_message(action.card, person["phone"], policy, voice)
                if not body and not media:
                    continue
                outbox.append(
                    {
                        "subscriber_id": person["id"],
                        "direction": "outbound",
                        "body": body,
                        "media_urls": list(media),
                        "sid": None,
                        "ref": f"r{run['id']}.{run['step']}.{n}.{secrets.token_hex(4)}",
                        "reply_to": None,
                        "intent": None,
                        "status": PENDING,
                        "created_at": now,
                        "updated_at": now,
                        "run_id": run["id"],
                        "marketing": True,
                        "due_at": run["due_at"],
                        "send_after": quiet.next_allowed(now, person["phone"]),
                        "attempts": 0,
                    }
                )
            elif isinstance(action, SetProperty):
                person["properties"] = {**(person["properties"] or {}), action.name: action.value}
                if action.name == "language":
                    person["language"], person["language_source"] = str(action.value), "property"
                changed[person["id"]] = person
            elif isinstance(action, StartFlow):
                started.append(
                    {
                        "subscriber_id": person["id"],
                        "flow": action.flow,
                        "status": "active",
                        "step": 0,
                        "waiting": False,
                        "asked_again": False,
                        "due_at": now,
                        "started_by": f"flow:{run['flow']}",
                        "started_at": now,
                        "updated_at": now,
                    }
                )
        if went.state is None:
            ended.setdefault("ended", []).append(run["id"])
        else:
            moved.append(
                {
                    "run_id": run["id"],
                    "step": went.state.step,
                    "waiting": went.state.waiting,
                    "asked_again": went.state.asked_again,
                    "due_at": went.state.due_at,
                    "updated_at": now,
                }
            )
            nexts[run["id"]] = went.state.due_at

    if moved:
        conn.execute(_MOVE_RUN_BY_ID, moved)
    for status, ids in ended.items():
        conn.execute(
            update(flow_runs)
            .where(flow_runs.c.id.in_(ids))
            .values(status=status, due_at=None, ended_at=now, updated_at=now)
        )
    if outbox:
        conn.execute(messages.insert(), outbox)
    if started:  # a flow already running for the subscriber is not started twice
        conn.execute(START_RUN[conn.dialect.name], started)
    for person in changed.values():
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == person["id"])
            .values(
                properties=person["properties"],
                language=person["language"],
                language_source=person["language_source"],
                updated_at=now,
            )
        )
    created: dict[int, datetime] = {}
    if outbox:
        refs = [row["ref"] for row in outbox]
        for found in conn.execute(
            select(messages.c.id, messages.c.send_after).where(messages.c.ref.in_(refs))
        ):
            created[found.id] = found.send_after
    return Stepped(nexts, created, len(started))


_MOVE_RUN_BY_ID = (
    update(flow_runs)
    .where(flow_runs.c.id == bindparam("run_id"))
    .values({name: bindparam(name) for name in ("step", "waiting", "asked_again", "due_at", "updated_at")})
)


_OUTBOX_ROWS = (
    select(
        messages.c.id,
        messages.c.ref,
        messages.c.body,
        messages.c.media_urls,
        messages.c.status,
        messages.c.marketing,
        messages.c.attempts,
        messages.c.send_after,
        messages.c.updated_at,
        subscribers.c.phone,
        subscribers.c.status.label("subscriber_status"),
    )
    .join(subscribers, subscribers.c.id == messages.c.subscriber_id)
    .where(messages.c.id.in_(bindparam("ids", expanding=True)))
)


def claim(conn: Connection, ids: Sequence[int], quiet: QuietHours, now: datetime, lease: timedelta) -> Claims:
    """Move each message that may go out now to `dispatching`; say when to look at the others."""
    query = _OUTBOX_ROWS
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=messages)  # a STOP's cancel waits for us, or we for it
    ready: list[Claimed] = []
    later: dict[int, datetime] = {}
    found: set[int] = set()
    cancelled: list[int] = []
    for row in conn.execute(query, {"ids": list(ids)}):
        found.add(row.id)
        if row.status not in (PENDING, DISPATCHING):
            continue
        if row.subscriber_status != Status.SUBSCRIBED.value:
            cancelled.append(row.id)
            continue
        if row.status == DISPATCHING and row.updated_at + lease > now:
            later[row.id] = row.updated_at + lease  # another worker is handing it over right now
            continue
        if row.send_after is not None and row.send_after > now:
            later[row.id] = row.send_after
            continue
        if row.marketing and not quiet.allows(now, row.phone):
            # Held by the rate until the window closed: wait for it to open again.
            later[row.id] = quiet.next_allowed(now, row.phone)
            conn.execute(update(messages).where(messages.c.id == row.id).values(send_after=later[row.id]))
            continue
        ready.append(
            Claimed(
                id=row.id,
                ref=row.ref,
                to=row.phone,
                body=row.body,
                media_urls=tuple(row.media_urls or ()),
                attempts=row.attempts,
                recovering=row.status == DISPATCHING,
                since=row.updated_at,
            )
        )
    if cancelled:
        conn.execute(
            update(messages).where(messages.c.id.in_(cancelled)).values(status="cancelled", updated_at=now)
        )
    if ready:
        conn.execute(
            update(messages)
            .where(messages.c.id.in_([c.id for c in ready]))
            .values(status=DISPATCHING, attempts=messages.c.attempts + 1, updated_at=now)
        )
    dropped = [i for i in ids if i not in found or i in cancelled]
    dropped += [i for i in found if i not in later and i not in cancelled and all(c.id != i for c in ready)]
    return Claims(ready, later, dropped)


@dataclass(frozen=True)
class Outcome:
    retry_at: dict[int, datetime]  # tried again then
    opted_out: int  # subscribers the carrier reported as opted out (21610)


def record_results(
    conn: Connection,
    results: Sequence[tuple[Claimed, SendResult]],
    now: datetime,
    max_attempts: int,
) -> Outcome:
    """Store what the carrier said about each message handed over."""
    retry_at: dict[int, datetime] = {}
    opted_out = 0
    ids = [claimed.id for claimed, _ in results]
    current = dict(conn.execute(select(messages.c.id, messages.c.status).where(messages.c.id.in_(ids))).all())
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # one executemany per shape of change
    for claimed, result in results:
        values: dict[str, Any] = {"updated_at": now, "error_code": result.error_code}
        if result.sid is not None:
            values.update(sid=result.sid, handed_at=now)
            # A status callback may already have told more than the API's first answer.
            if STATUS_RANK.get(result.status, 0) >= STATUS_RANK.get(current.get(claimed.id, ""), 0):
                values["status"] = result.status
        elif result.retry and claimed.attempts + 1 < max_attempts:
            delay = min(RETRY_MAX, RETRY_BASE * 2**claimed.attempts)
            retry_at[claimed.id] = now + timedelta(seconds=delay)
            values.update(status=PENDING, send_after=retry_at[claimed.id])
        else:
            values["status"] = "failed"
            if result.opted_out:
                subscriber_id = conn.execute(
                    select(messages.c.subscriber_id).where(messages.c.id == claimed.id)
                ).scalar_one()
                opted_out += opt_out_at_carrier(conn, subscriber_id, now, result.error_code)
        changes.setdefault(tuple(sorted(values)), []).append({"message_id": claimed.id, **values})
    for shape, rows in changes.items():
        statement = (
            update(messages)
            .where(messages.c.id == bindparam("message_id"))
            .values({name: bindparam(name) for name in shape})
        )
        conn.execute(statement, rows)
    return Outcome(retry_at, opted_out)


def opt_out_at_carrier(conn: Connection, subscriber_id: int, now: datetime, code: int | None) -> int:
    """The carrier refuses to deliver: the number opted out there (STOP to the carrier, 21610).

    We record it as an opt-out like any other, so nothing more is queued or sent. 1 if it changed.
    """
    person = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).mappings().one()
    if person["status"] == Status.UNSUBSCRIBED.value:
        return 0
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(status=Status.UNSUBSCRIBED.value, unsubscribed_at=now, updated_at=now)
    )
    conn.execute(
        consent_events.insert().values(
            subscriber_id=subscriber_id,
            action=Action.OPT_OUT.value,
            from_status=person["status"],
            to_status=Status.UNSUBSCRIBED.value,
            keyword=None,
            source=f"carrier:{code}" if code else "carrier",
            text=None,
            message_sid=None,
            at=now,
        )
    )
    conn.execute(CANCEL_RUNS, {"b_subscriber": subscriber_id, "b_now": now})
    conn.execute(CANCEL_OUTBOX, {"b_subscriber": subscriber_id, "b_now": now})
    return 1


def known_sids(conn: Connection, sids: Sequence[str]) -> set[str]:
    """Which of these carrier message ids are already stored (recovery must not adopt them twice)."""
    if not sids:
        return set()
    return set(conn.scalars(select(messages.c.sid).where(messages.c.sid.in_(list(sids)))))


DUE_RUNS = (
    select(flow_runs.c.id, flow_runs.c.due_at)
    .where(RUN_IS_ACTIVE, flow_runs.c.due_at <= bindparam("until"))
    .order_by(flow_runs.c.due_at)
    .limit(bindparam("limit"))
)
DUE_MESSAGES = (
    select(messages.c.id, messages.c.send_after)
    .where(IN_OUTBOX, messages.c.send_after <= bindparam("until"))
    .order_by(messages.c.send_after)
    .limit(bindparam("limit"))
)


async def record_status(
    engine: AsyncEngine, *, ref: str | None, sid: str, status: str, error_code: int | None, now: datetime
) -> bool:
    """Apply a delivery status callback; False when no outbound message matches.

    A delivered contact card sets the subscriber's `vcard_received`; error 21610 (the number opted
    out at the carrier) unsubscribes them.
    """
    key = messages.c.ref == ref if ref else messages.c.sid == sid
    async with engine.execution_options(**{WRITE: True}).begin() as conn:
        row = (
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.status,
                    messages.c.sid,
                    messages.c.subscriber_id,
                    messages.c.media_urls,
                ).where(key, messages.c.direction == "outbound")
            )
        ).first()
        if row is None:
            return False
        values: dict[str, Any] = {"updated_at": now}
        if row.sid is None:
            values["sid"] = sid
        if STATUS_RANK.get(status, 0) >= STATUS_RANK.get(row.status, 0):
            values["status"] = status
            if error_code is not None:
                values["error_code"] = error_code
        await conn.execute(update(messages).where(messages.c.id == row.id).values(values))
        if error_code == OPTED_OUT_AT_CARRIER:
            await conn.run_sync(opt_out_at_carrier, row.subscriber_id, now, error_code)
        elif status == "delivered" and any(_is_card(url) for url in row.media_urls or ()):
            await conn.run_sync(_set_property, row.subscriber_id, VCARD_RECEIVED, True, now)
        return True


def _is_card(url: str) -> bool:
    return "/vcards/" in url and url.endswith(".vcf")


def _set_property(conn: Connection, subscriber_id: int, name: str, value: Any, now: datetime) -> None:
    query = select(subscribers.c.properties).where(subscribers.c.id == subscriber_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    properties = dict(conn.execute(query).scalar_one() or {})
    if properties.get(name) == value:
        return
    properties[name] = value
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(properties=properties, updated_at=now)
    )
