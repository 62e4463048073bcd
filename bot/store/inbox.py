"""What the Inbox pages read: open (or closed) conversations newest first with their last line,
the unread count, a cheap mark of change for the page's polling, and one conversation's thread
with the subscriber's context beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.engine import Connection

from bot.domain.model import Program
from bot.store.schema import conversations, messages, store_events, subscribers
from bot.store.segments import for_segments, where

PAGE = 50
THREAD = 200  # the latest messages a thread shows


@dataclass(frozen=True)
class Listed:
    id: int
    phone: str
    name: str | None
    subscriber_status: str
    unread: int
    last_message_at: datetime
    assigned_to: str | None
    last_line: str  # the latest text they sent
    last_direction: str


def listing(conn: Connection, status: str, page: int = 0, assigned_to: str | None = None) -> list[Listed]:
    """One page of conversations with this status, the latest first."""
    query = (
        select(conversations, subscribers.c.phone, subscribers.c.properties, subscribers.c.status.label("s"))
        .join(subscribers, subscribers.c.id == conversations.c.subscriber_id)
        .where(conversations.c.status == status)
        .order_by(conversations.c.last_message_at.desc(), conversations.c.id.desc())
        .limit(PAGE)
        .offset(page * PAGE)
    )
    if assigned_to is not None:
        query = query.where(conversations.c.assigned_to == assigned_to)
    found = conn.execute(query).mappings().all()
    last = _last_lines(conn, [row["subscriber_id"] for row in found])
    return [
        Listed(
            row["id"],
            row["phone"],
            (row["properties"] or {}).get("first_name"),
            row["s"],
            row["unread"],
            row["last_message_at"],
            row["assigned_to"],
            *last.get(row["subscriber_id"], ("", "")),
        )
        for row in found
    ]


def _last_lines(conn: Connection, subscriber_ids: list[int]) -> dict[int, tuple[str, str]]:
    if not subscriber_ids:
        return {}
    latest = (
        select(func.max(messages.c.id))
        .where(messages.c.subscriber_id.in_(subscriber_ids), messages.c.direction == "inbound")
        .group_by(messages.c.subscriber_id)
    )
    found = conn.execute(
        select(messages.c.subscriber_id, messages.c.body, messages.c.direction).where(
            messages.c.id.in_(latest)
        )
    )
    return {row.subscriber_id: (row.body[:120], row.direction) for row in found}


@dataclass(frozen=True)
class Counts:
    open: int
    unread: int  # their texts nobody on the team has read
    mark: str  # changes whenever the inbox does: the page polls it


def counts(conn: Connection) -> Counts:
    found = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(conversations.c.unread), 0),
            func.max(conversations.c.last_message_at),
        ).where(conversations.c.status == "open")
    ).one()
    newest = found[2].isoformat() if found[2] is not None else "-"
    return Counts(int(found[0]), int(found[1]), f"{found[0]}.{found[1]}.{newest}")


@dataclass(frozen=True)
class Thread:
    conversation: dict[str, Any]
    subscriber: dict[str, Any]
    messages: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    segments: list[str]
    mark: str  # changes with a new message or a delivery status


def thread(conn: Connection, conversation_id: int, program: Program, now: datetime) -> Thread | None:
    found = (
        conn.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
    )
    if found is None:
        return None
    subscriber_id = found["subscriber_id"]
    person = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).mappings().one()
    said = conn.execute(
        select(messages)
        .where(messages.c.subscriber_id == subscriber_id)
        .order_by(messages.c.id.desc())
        .limit(THREAD)
    ).mappings()
    lines = [dict(row) for row in said][::-1]
    orders = conn.execute(
        select(
            store_events.c.order_ref,
            store_events.c.value_minor,
            store_events.c.currency,
            store_events.c.occurred_at,
        )
        .where(store_events.c.subscriber_id == subscriber_id, store_events.c.type == "order_placed")
        .order_by(store_events.c.occurred_at.desc())
        .limit(5)
    ).mappings()
    return Thread(
        dict(found),
        dict(person),
        lines,
        [dict(row) for row in orders],
        member_of(conn, subscriber_id, program, now),
        _mark(conn, found),
    )


def thread_mark(conn: Connection, conversation_id: int) -> str | None:
    """What the thread's page polls: changes with a new message, a delivery status, or the
    conversation's own state (None: no such conversation)."""
    found = (
        conn.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
    )
    return None if found is None else _mark(conn, found)


def _mark(conn: Connection, conversation: Any) -> str:
    newest, changed = conn.execute(
        select(func.max(messages.c.id), func.max(messages.c.updated_at)).where(
            messages.c.subscriber_id == conversation["subscriber_id"]
        )
    ).one()
    moved = changed.isoformat() if changed is not None else "-"
    return f"{newest or 0}.{moved}.{conversation['status']}.{conversation['assigned_to'] or ''}"


def member_of(conn: Connection, subscriber_id: int, program: Program, now: datetime) -> list[str]:
    """The program's segments this subscriber is in now, in one query."""
    if not program.segments:
        return []
    for_segments(conn)
    names = list(program.segments)
    dialect, zone = conn.dialect.name, program.info.zone
    checks = [
        case((where(segment.condition, dialect, program.segments, now, zone), literal(1)), else_=literal(0))
        for segment in program.segments.values()
    ]
    found = conn.execute(select(*checks).where(subscribers.c.id == subscriber_id)).one()
    return [name for name, inside in zip(names, found, strict=True) if inside]
