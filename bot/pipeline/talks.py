"""The open conversations of a batch's subscribers, and what the batch's texts do to them: read
with the batch (under the same locks as the subscribers), written with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, literal_column, select, update
from sqlalchemy.engine import Connection

from bot.domain.inbox import Converse
from bot.store import rows
from bot.store.bulk import Write, executemany
from bot.store.schema import conversations

OPEN, CLOSED = "open", "closed"
OPTED_OUT = "opted out"  # who closed a conversation a STOP ended

# 'open' written into the statement, not bound: PostgreSQL's generic plan for a bound status cannot
# use the index of open conversations, and read every open one through the status index.
_OPEN_OF = select(conversations).where(
    conversations.c.subscriber_id.in_(bindparam("ids", expanding=True)),
    conversations.c.status == literal_column(f"'{OPEN}'"),
)
_INSERT = conversations.insert()
_UPDATE = (
    update(conversations)
    .where(conversations.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        last_message_at=bindparam("b_last_message_at"),
        unread=bindparam("b_unread"),
        closed_at=bindparam("b_closed_at"),
        closed_by=bindparam("b_closed_by"),
    )
)


class Talks:
    def __init__(self) -> None:
        self.open: dict[int, rows.Row] = {}  # subscriber id -> their open conversation
        self.made: list[rows.Row] = []  # opened in this batch (may be closed again in it)
        self.changed: dict[int, rows.Row] = {}  # stored ones changed, by conversation id

    def load(self, conn: Connection, subscriber_ids: Sequence[int]) -> None:
        if subscriber_ids:
            for row in conn.execute(_OPEN_OF, {"ids": sorted(set(subscriber_ids))}).mappings():
                self.open[row["subscriber_id"]] = dict(row)

    def talking(self, subscriber_id: int) -> bool:
        return subscriber_id in self.open

    def apply(self, subscriber_id: int, change: Converse, at: datetime) -> None:
        if change is Converse.OPENED:
            made: rows.Row = {
                "subscriber_id": subscriber_id,
                "status": OPEN,
                "opened_at": at,
                "last_message_at": at,
                "unread": 1,
                "assigned_to": None,
                "closed_at": None,
                "closed_by": None,
            }
            self.made.append(made)
            self.open[subscriber_id] = made
            return
        found = self.open.get(subscriber_id)
        if found is None:
            return
        if change is Converse.JOINED:
            found["unread"] += 1
            found["last_message_at"] = max(found["last_message_at"], at)
        else:  # CLOSED: they opted out
            found["status"], found["closed_at"], found["closed_by"] = CLOSED, at, OPTED_OUT
            del self.open[subscriber_id]
        if "id" in found:
            self.changed[found["id"]] = found

    def write_changed(self, conn: Connection) -> None:
        """Store the stored conversations changed; before those opened are: one closed makes room
        for one opened (a single open conversation per subscriber)."""
        executemany(conn, _UPDATE, [_update(row) for row in self.changed.values()])

    def opened(self) -> Write:
        """The conversations opened, to insert."""
        return _INSERT, self.made


def _update(row: rows.Row) -> rows.Row:
    kept = ("id", "status", "last_message_at", "unread", "closed_at", "closed_by")
    return {f"b_{name}": row[name] for name in kept}
