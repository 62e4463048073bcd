"""A sign-up page's request, stored: the subscriber (made if new), the consent record of the opt-in
requested with where it came from, and the "Reply Y" text in the outbox: a consent message, which
the gate lets reach a pending subscriber at once (it answers their own request: quiet hours do not
hold it)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.domain.conversation import web_opt_in
from bot.domain.gate import Purpose
from bot.domain.model import Program
from bot.pipeline.changes import Cause, Changes, lock_subscribers
from bot.store import rows
from bot.store.schema import subscribers
from bot.store.statements import INSERT_SUBSCRIBER


def sign_up(conn: Connection, phone: str, form: str, address: str, program: Program, now: datetime) -> int:
    """Ask `phone` to confirm; the number of texts queued (none for a subscriber)."""
    conn.execute(INSERT_SUBSCRIBER[conn.dialect.name], [rows.new_subscriber(phone, now)])
    subscriber_id = conn.scalar(select(subscribers.c.id).where(subscribers.c.phone == phone))
    assert subscriber_id is not None
    person = lock_subscribers(conn, {subscriber_id})[subscriber_id]
    outcome = web_opt_in(rows.subscriber_state(person), program, form, now)
    changes = Changes(now)
    evidence = f"sign-up page {form}: consent box ticked, from {address}"
    changes.record(person, outcome, Cause(now, f"web:{form}", text=evidence))
    for n, body in enumerate(outcome.replies):
        ref = f"w{subscriber_id}.{n}.{secrets.token_hex(6)}"
        message = rows.outbox_message(subscriber_id, ref, body, (), None, now, now, now)
        changes.messages.append(rows.purposed(message, Purpose.CONSENT))
    changes.write(conn)
    return len(outcome.replies)
