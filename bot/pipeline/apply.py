"""Apply a batch of inbound messages in one transaction: load, decide, record.

Runs on a synchronous SQLAlchemy connection (through `run_sync`), so a whole batch costs a handful
of statements whatever its size: that is what makes the webhook fast on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Connection

from bot.channels.base import Reply
from bot.domain.conversation import decide
from bot.domain.coupons import NO_COUPON, PoolEmpty, held_text, placeholders
from bot.domain.inbound import InboundMessage
from bot.domain.model import Program
from bot.domain.outcome import Outcome, Policy
from bot.pipeline.changes import Cause, Changes
from bot.pipeline.coupons import CouponDesk
from bot.store import rows
from bot.store.statements import (
    LOCK_SENDERS,
    MAKE_SUBSCRIBERS,
    REPLIES,
    STORED_SIDS,
    SUBSCRIBERS_BY_PHONE,
)


@dataclass(frozen=True)
class Applied:
    message_sid: str
    replies: tuple[Reply, ...]
    duplicate: bool  # a second delivery of a MessageSid already stored: nothing was changed
    outcome: Outcome | None = None


def reply_ref(message_sid: str, index: int) -> str:
    return f"{message_sid}.{index}"  # URL-safe: it travels in the status callback's query


def apply_batch(
    conn: Connection, batch: Sequence[InboundMessage], program: Program, policy: Policy, now: datetime
) -> list[Applied]:
    """Record and act on `batch`, in order; the caller owns the transaction."""
    replays = _replays(conn, [m.message_sid for m in batch])
    fresh = [m for m in batch if m.message_sid not in replays]
    people, made = load_subscribers(conn, list(dict.fromkeys(m.sender for m in fresh)), now)
    results: dict[str, Applied] = {sid: Applied(sid, r, duplicate=True) for sid, r in replays.items()}
    changes = Changes(now, coupons=CouponDesk(conn, now), made=made)
    stored = [row["id"] for row in people.values() if row["id"] not in made]
    changes.load_runs(conn, stored)  # someone made in this transaction has no runs nor conversation yet
    changes.load_conversations(conn, stored)
    for message in fresh:
        sid = message.message_sid
        if sid in results:  # the same MessageSid twice in one batch
            results[sid] = replace(results[sid], duplicate=True)
            continue
        results[sid] = _apply(changes, people[message.sender], message, program, policy)
    changes.write(conn)
    return [results[m.message_sid] for m in batch]


def _apply(
    changes: Changes, person: rows.Row, message: InboundMessage, program: Program, policy: Policy
) -> Applied:
    sid, subscriber_id = message.message_sid, person["id"]
    book = changes.book(subscriber_id)
    state = rows.subscriber_state(person)
    outcome = decide(message, state, program, policy, book.flows(), changes.talks.talking(subscriber_id))
    changes.messages.append(rows.inbound_message(subscriber_id, message, outcome.intent.value, changes.now))
    changes.texted(person)
    origin = f"keyword:{outcome.keyword}" if outcome.keyword else "reply:reply"
    sent: list[Reply] = []
    status = "simulated" if message.simulated else "queued"
    for i, body in enumerate(outcome.replies):
        ref, media = reply_ref(sid, i), outcome.media.get(i, ())
        body = placeholders(body) if message.simulated else body  # `smsbot chat`: no real code given
        try:
            reply = Reply(ref, changes.tracked(body, subscriber_id, ref, origin, policy.link_base), media)
        except PoolEmpty as empty:  # held back, with why: never sent with an empty code
            text = held_text(body, empty.pool)
            held = rows.reply(subscriber_id, ref, text, media, sid, "cancelled", changes.now)
            changes.messages.append({**held, "reason": NO_COUPON})
            continue
        sent.append(reply)
        changes.messages.append(rows.reply(subscriber_id, ref, reply.body, media, sid, status, changes.now))
    changes.record(person, outcome, Cause(message.received_at, sid, message.body, sid))
    return Applied(sid, tuple(sent), duplicate=False, outcome=outcome)


def load_subscribers(
    conn: Connection, phones: Sequence[str], now: datetime
) -> tuple[dict[str, rows.Row], set[int]]:
    """The subscribers with these numbers by phone, made if new; and the ids of those made."""
    if not phones:
        return {}, set()
    # SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL locks the rows.
    query = LOCK_SENDERS if conn.dialect.name == "postgresql" else SUBSCRIBERS_BY_PHONE

    def fetch(wanted: Sequence[str]) -> dict[str, rows.Row]:
        return {row["phone"]: dict(row) for row in conn.execute(query, {"phones": wanted}).mappings()}

    found = fetch(phones)
    missing = [p for p in phones if p not in found]
    if not missing:
        return found, set()
    made = {
        row["phone"]: dict(row)
        for row in conn.execute(
            MAKE_SUBSCRIBERS[conn.dialect.name], [rows.new_subscriber(p, now) for p in missing]
        ).mappings()
    }
    found.update(made)
    raced = [p for p in missing if p not in made]  # another writer made them first: read as stored
    if raced:
        found.update(fetch(raced))
    return found, {row["id"] for row in made.values()}


def _replays(conn: Connection, sids: Sequence[str]) -> dict[str, tuple[Reply, ...]]:
    stored = set(conn.scalars(STORED_SIDS, {"sids": list(sids)}))
    if not stored:
        return {}
    found: dict[str, list[Reply]] = {sid: [] for sid in stored}
    for reply_to, ref, body, media in conn.execute(REPLIES, {"sids": list(stored)}):
        found[reply_to].append(Reply(ref, body, tuple(media or ())))
    return {sid: tuple(r) for sid, r in found.items()}
