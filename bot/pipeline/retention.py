"""Message bodies kept no longer than the operator says (`privacy.keep_messages_days`, off by
default): older bodies and media are blanked in small batches, the rows, statuses and every count
kept (the dashboard's counts are made on insert and on status changes, never read from a body)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.engine import Connection

from bot.domain.delivery import DISPATCHING, PENDING
from bot.store.schema import messages

BATCH = 1_000  # messages per transaction: a backlog never holds SQLite's write lock for long
FORGOTTEN = ""  # what a forgotten body reads


def forget_bodies(conn: Connection, now: datetime, keep_days: int, after: int) -> tuple[int, int]:
    """Blank the bodies and media of up to BATCH messages older than `keep_days` and not blanked yet,
    walking the ids from `after`: how many it blanked, and the id to go on from (`after` itself
    when none was left). A walk reads the old messages again, but writes only what it blanks."""
    older = (
        select(messages.c.id)
        .where(
            messages.c.id > after,
            messages.c.created_at < now - timedelta(days=keep_days),
            messages.c.status.not_in([PENDING, DISPATCHING]),  # still to go out: its words are needed
            or_(messages.c.body != FORGOTTEN, cast(messages.c.media_urls, Text) != "[]"),
        )
        .order_by(messages.c.id)
        .limit(BATCH)
    )
    ids = list(conn.execute(older).scalars())
    if not ids:
        return 0, after
    conn.execute(update(messages).where(messages.c.id.in_(ids)).values(body=FORGOTTEN, media_urls=[]))
    return len(ids), ids[-1]
