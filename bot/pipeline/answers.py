"""A person's answer from the inbox, and what the team does to a conversation (close, reopen,
assign). An answer is queued like every other message and leaves through the worker and the gate:
its purpose says a person wrote it (it reaches anyone who has not opted out, at any hour), and its
row keeps who."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.domain.gate import SAID, Cancel, Outgoing, Purpose, Since, may_send
from bot.domain.quiet_hours import QuietHours
from bot.pipeline.changes import lock_subscribers
from bot.pipeline.gating import recipient
from bot.pipeline.talks import CLOSED, OPEN
from bot.store import rows
from bot.store.schema import conversations
from bot.store.statements import INSERT_MESSAGES

LONGEST = 1600  # characters: ten segments, the carriers' limit for one message


class Refused(Exception):
    """Why an answer or a change cannot be made (said to the person who tried)."""


@dataclass(frozen=True)
class Answered:
    ref: str
    subscriber_id: int


def answer(conn: Connection, conversation_id: int, body: str, user: str, now: datetime) -> Answered:
    """Queue `body` to the conversation's subscriber, written by `user`; Refused when it may not go."""
    text = body.replace("\x00", "").strip()  # PostgreSQL text holds no NUL, nor does an SMS
    if not text:
        raise Refused("the answer is empty")
    if len(text) > LONGEST:
        raise Refused(f"the answer is {len(text)} characters: at most {LONGEST}")
    found = _conversation(conn, conversation_id)
    person = lock_subscribers(conn, {found["subscriber_id"]})[found["subscriber_id"]]
    verdict = may_send(Outgoing(Purpose.PERSON, now), recipient(person), Since(), QuietHours(), now)
    if isinstance(verdict, Cancel):  # they opted out: only their own opt-in lets anything reach them
        raise Refused(f"nothing may be sent to them: {SAID[verdict.reason]} (they opted out)")
    ref = f"p{found['id']}.{secrets.token_hex(6)}"
    message = rows.outbox_message(person["id"], ref, text, (), None, now, now, now)
    conn.execute(INSERT_MESSAGES, [{**rows.purposed(message, Purpose.PERSON), "sent_by": user}])
    conn.execute(
        update(conversations)
        .where(conversations.c.id == found["id"])
        .values(last_message_at=now, unread=0, assigned_to=found["assigned_to"] or user)
    )
    return Answered(ref, person["id"])


def mark_read(conn: Connection, conversation_id: int) -> None:
    conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(unread=0))


def close(conn: Connection, conversation_id: int, user: str, now: datetime) -> None:
    found = _conversation(conn, conversation_id)
    if found["status"] != OPEN:
        raise Refused("it is already closed")
    conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(status=CLOSED, closed_at=now, closed_by=user, unread=0)
    )


def reopen(conn: Connection, conversation_id: int, now: datetime) -> int:
    """The conversation open again; if another is open with them since, that one (its id)."""
    found = _conversation(conn, conversation_id)
    if found["status"] == OPEN:
        return conversation_id
    lock_subscribers(conn, {found["subscriber_id"]})
    try:
        with conn.begin_nested():
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=OPEN, closed_at=None, closed_by=None, last_message_at=now)
            )
    except IntegrityError:  # they texted again since: that conversation is the open one
        other = conn.scalar(
            select(conversations.c.id).where(
                conversations.c.subscriber_id == found["subscriber_id"], conversations.c.status == OPEN
            )
        )
        return int(other) if other is not None else conversation_id
    return conversation_id


def assign(conn: Connection, conversation_id: int, user: str | None) -> None:
    _conversation(conn, conversation_id)
    conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(assigned_to=user))


def _conversation(conn: Connection, conversation_id: int) -> rows.Row:
    found = (
        conn.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
    )
    if found is None:
        raise Refused(f"no conversation {conversation_id}")
    return dict(found)
