"""Apply a batch of inbound messages in one transaction: load, decide, record.

Runs on a synchronous SQLAlchemy connection (through `run_sync`), so a whole batch costs a handful
of statements whatever its size: that is what makes the webhook fast on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.domain.conversation import Flows, Outcome, Policy, RunChange, decide
from bot.domain.flow_runner import RunState
from bot.domain.inbound import InboundMessage
from bot.domain.model import Program
from bot.domain.subscription import Status
from bot.domain.voice import SubscriberState
from bot.store.schema import RUN_IS_ACTIVE, consent_events, flow_runs, keyword_events, messages, subscribers

_MUTABLE = (
    "status",
    "language",
    "language_source",
    "opt_in_source",
    "opt_in_keyword",
    "properties",
    "subscribed_at",
    "unsubscribed_at",
)


@dataclass(frozen=True)
class Reply:
    ref: str  # idempotency key, also how a status callback finds it
    body: str
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Applied:
    message_sid: str
    replies: tuple[Reply, ...]
    duplicate: bool  # a second delivery of a MessageSid already stored: nothing was changed
    outcome: Outcome | None = None


# Built once: composing a statement costs more than running it on a small batch.
_STORED_SIDS = select(messages.c.sid).where(messages.c.sid.in_(bindparam("sids", expanding=True)))
_REPLIES = (
    select(messages.c.reply_to, messages.c.ref, messages.c.body, messages.c.media_urls)
    .where(messages.c.reply_to.in_(bindparam("sids", expanding=True)))
    .order_by(messages.c.id)
)
_SUBSCRIBERS = select(subscribers).where(subscribers.c.phone.in_(bindparam("phones", expanding=True)))
_SUBSCRIBERS_LOCKED = _SUBSCRIBERS.with_for_update()
_INSERT_SUBSCRIBER = {
    "sqlite": sqlite.insert(subscribers).on_conflict_do_nothing(index_elements=["phone"]),
    "postgresql": postgresql.insert(subscribers).on_conflict_do_nothing(index_elements=["phone"]),
}
_INSERT_MESSAGES = messages.insert()
_INSERT_CONSENT = consent_events.insert()
_INSERT_KEYWORD_EVENTS = keyword_events.insert()
# A flow already running for the subscriber is not started twice.
START_RUN = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(flow_runs).on_conflict_do_nothing(
        index_elements=["subscriber_id", "flow"], index_where=text("status = 'active'")
    )
    for dialect in (sqlite, postgresql)
}
CANCEL_RUNS = (
    update(flow_runs)
    .where(flow_runs.c.subscriber_id == bindparam("b_subscriber"), RUN_IS_ACTIVE)
    .values(status="cancelled", ended_at=bindparam("b_now"), updated_at=bindparam("b_now"))
)
# Whatever the worker has not yet handed to the carrier stays unsent once they opt out.
CANCEL_OUTBOX = (
    update(messages)
    .where(messages.c.subscriber_id == bindparam("b_subscriber"), messages.c.status == "pending")
    .values(status="cancelled", updated_at=bindparam("b_now"))
)
_UPDATE_SUBSCRIBER = (
    update(subscribers)
    .where(subscribers.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in (*_MUTABLE, "updated_at")})
)


_MOVE_RUN = (
    update(flow_runs)
    .where(
        flow_runs.c.subscriber_id == bindparam("b_subscriber"),
        flow_runs.c.flow == bindparam("b_flow"),
        RUN_IS_ACTIVE,
    )
    .values(
        status=bindparam("b_status"),
        step=bindparam("b_step"),
        waiting=bindparam("b_waiting"),
        asked_again=bindparam("b_asked_again"),
        due_at=bindparam("b_due_at"),
        ended_at=bindparam("b_ended_at"),
        updated_at=bindparam("b_now"),
    )
)
_ACTIVE_RUNS = select(
    flow_runs.c.subscriber_id,
    flow_runs.c.flow,
    flow_runs.c.step,
    flow_runs.c.waiting,
    flow_runs.c.asked_again,
    flow_runs.c.due_at,
).where(flow_runs.c.subscriber_id.in_(bindparam("ids", expanding=True)), RUN_IS_ACTIVE)


@dataclass
class _RunBook:
    """One subscriber's runs while a batch is applied, so later messages see earlier ones' effects."""

    current: dict[str, RunState | None] = field(default_factory=dict)  # None: ended in this batch
    new: dict[str, str] = field(default_factory=dict)  # flows started in this batch -> starting MessageSid
    moved: set[str] = field(default_factory=set)  # runs that existed before the batch and moved on
    cancelled: bool = False

    def flows(self) -> Flows:
        active = {flow for flow, state in self.current.items() if state is not None}
        waiting = next((s for s in self.current.values() if s is not None and s.waiting), None)
        return Flows(frozenset(active), waiting)

    def cancel(self) -> None:
        self.current.clear()
        self.new.clear()
        self.moved.clear()
        self.cancelled = True

    def apply(self, change: RunChange, sid: str) -> None:
        self.current[change.flow] = change.state
        if change.started:
            self.new[change.flow] = sid
        elif change.flow not in self.new:
            self.moved.add(change.flow)


def _load_runs(conn: Connection, subscriber_ids: list[int]) -> dict[int, _RunBook]:
    books: dict[int, _RunBook] = {}
    if not subscriber_ids:
        return books
    for run in conn.execute(_ACTIVE_RUNS, {"ids": subscriber_ids}):
        state = RunState(run.flow, run.step, run.waiting, run.asked_again, run.due_at)
        books.setdefault(run.subscriber_id, _RunBook()).current[run.flow] = state
    return books


def _run_values(state: RunState | None, now: datetime) -> dict[str, Any]:
    return {
        "status": "active" if state is not None else "ended",
        "step": state.step if state else 0,
        "waiting": state.waiting if state else False,
        "asked_again": state.asked_again if state else False,
        "due_at": state.due_at if state else None,
        "ended_at": None if state else now,
    }


def _write_runs(conn: Connection, books: dict[int, _RunBook], now: datetime) -> None:
    cancelled = [{"b_subscriber": s, "b_now": now} for s, book in books.items() if book.cancelled]
    if cancelled:
        conn.execute(CANCEL_RUNS, cancelled)
        conn.execute(CANCEL_OUTBOX, cancelled)
    started = [
        {
            "subscriber_id": s,
            "flow": flow,
            "started_by": sid,
            "started_at": now,
            "updated_at": now,
            **_run_values(book.current.get(flow), now),
        }
        for s, book in books.items()
        for flow, sid in book.new.items()
    ]
    if started:  # a flow already running for the subscriber is not started twice
        conn.execute(START_RUN[conn.dialect.name], started)
    moved = [
        {
            "b_subscriber": s,
            "b_flow": flow,
            "b_now": now,
            **{f"b_{k}": v for k, v in _run_values(book.current.get(flow), now).items()},
        }
        for s, book in books.items()
        for flow in book.moved
    ]
    if moved:
        conn.execute(_MOVE_RUN, moved)


def reply_ref(message_sid: str, index: int) -> str:
    return f"{message_sid}.{index}"  # URL-safe: it travels in the status callback's query


def _load_subscribers(conn: Connection, phones: Sequence[str], now: datetime) -> dict[str, dict[str, Any]]:
    # SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL locks the rows.
    query = _SUBSCRIBERS_LOCKED if conn.dialect.name == "postgresql" else _SUBSCRIBERS

    def fetch(wanted: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {row["phone"]: dict(row) for row in conn.execute(query, {"phones": wanted}).mappings()}

    found = fetch(phones)
    missing = [p for p in phones if p not in found]
    if missing:
        conn.execute(
            _INSERT_SUBSCRIBER[conn.dialect.name],
            [
                {
                    "phone": p,
                    "status": Status.NEW.value,
                    "properties": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for p in missing
            ],
        )
        found.update(fetch(missing))
    return found


def subscriber_state(row: dict[str, Any]) -> SubscriberState:
    return SubscriberState(
        phone=row["phone"],
        status=Status(row["status"]),
        language=row["language"],
        opt_in_source=row["opt_in_source"],
        opt_in_keyword=row["opt_in_keyword"],
        properties=row["properties"] or {},
    )


def _replays(conn: Connection, sids: Sequence[str]) -> dict[str, tuple[Reply, ...]]:
    stored = set(conn.scalars(_STORED_SIDS, {"sids": list(sids)}))
    if not stored:
        return {}
    found: dict[str, list[Reply]] = {sid: [] for sid in stored}
    rows = conn.execute(_REPLIES, {"sids": list(stored)})
    for reply_to, ref, body, media in rows:
        found[reply_to].append(Reply(ref, body, tuple(media or ())))
    return {sid: tuple(r) for sid, r in found.items()}


def apply_batch(
    conn: Connection, batch: Sequence[InboundMessage], program: Program, policy: Policy, now: datetime
) -> list[Applied]:
    """Record and act on `batch`, in order; the caller owns the transaction."""
    replays = _replays(conn, [m.message_sid for m in batch])
    fresh = [m for m in batch if m.message_sid not in replays]
    rows = _load_subscribers(conn, list(dict.fromkeys(m.sender for m in fresh)), now) if fresh else {}

    results: dict[str, Applied] = {sid: Applied(sid, r, duplicate=True) for sid, r in replays.items()}
    message_rows: list[dict[str, Any]] = []
    consent_rows: list[dict[str, Any]] = []
    keyword_rows: list[dict[str, Any]] = []
    books = _load_runs(conn, [row["id"] for row in rows.values()])
    changed: dict[str, dict[str, Any]] = {}

    for message in fresh:
        if message.message_sid in results:  # the same MessageSid twice in one batch
            results[message.message_sid] = replace(results[message.message_sid], duplicate=True)
            continue
        row = rows[message.sender]
        book = books.setdefault(row["id"], _RunBook())
        outcome = decide(message, subscriber_state(row), program, policy, book.flows())
        sid = message.message_sid
        message_rows.append(
            {
                "subscriber_id": row["id"],
                "direction": "inbound",
                "body": message.body,
                "media_urls": [m.url for m in message.media],
                "sid": sid,
                "ref": None,
                "reply_to": None,
                "intent": outcome.intent.value,
                "status": "received",
                "created_at": message.received_at,
                "updated_at": now,
            }
        )
        sent = tuple(
            Reply(reply_ref(sid, i), body, outcome.media.get(i, ())) for i, body in enumerate(outcome.replies)
        )
        for reply in sent:
            message_rows.append(
                {
                    "subscriber_id": row["id"],
                    "direction": "outbound",
                    "body": reply.body,
                    "media_urls": list(reply.media_urls),
                    "sid": None,
                    "ref": reply.ref,
                    "reply_to": sid,
                    "intent": None,
                    "status": "simulated" if message.simulated else "queued",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for change in outcome.consent:
            consent_rows.append(
                {
                    "subscriber_id": row["id"],
                    "action": change.action.value,
                    "from_status": change.from_status.value,
                    "to_status": change.to_status.value,
                    "keyword": change.keyword,
                    "source": change.source,
                    "text": message.body,
                    "message_sid": sid,
                    "at": message.received_at,
                }
            )
        if outcome.keyword is not None:
            keyword_rows.append(
                {
                    "subscriber_id": row["id"],
                    "keyword": outcome.keyword,
                    "text": message.body,
                    "message_sid": sid,
                    "at": message.received_at,
                }
            )
        if outcome.cancel_flows:  # in message order: a STOP ends what ran and what this batch started
            book.cancel()
        for run in outcome.runs:
            book.apply(run, sid)
        if outcome.updates:
            for key, value in outcome.updates.items():
                row[key] = value.value if isinstance(value, Status) else value
            changed[row["phone"]] = row
        results[sid] = Applied(sid, sent, duplicate=False, outcome=outcome)

    if message_rows:
        conn.execute(_INSERT_MESSAGES, message_rows)
    if consent_rows:
        conn.execute(_INSERT_CONSENT, consent_rows)
    if keyword_rows:
        conn.execute(_INSERT_KEYWORD_EVENTS, keyword_rows)
    _write_runs(conn, books, now)
    if changed:
        conn.execute(
            _UPDATE_SUBSCRIBER,
            [
                {"b_id": row["id"], "b_updated_at": now, **{f"b_{name}": row[name] for name in _MUTABLE}}
                for row in changed.values()
            ],
        )
    return [results[m.message_sid] for m in batch]
