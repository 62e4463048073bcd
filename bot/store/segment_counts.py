"""Segments' counts kept for the dashboard: counted again by the worker every few minutes and on a
marketer's asking, read by the pages in one short query. A count belongs to the definitions it was
made with: once the program's segments change, it is counted afresh."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from bot.domain.model import Program
from bot.domain.segments import describe
from bot.store.schema import segment_counts
from bot.store.segments import count


@dataclass(frozen=True)
class Counted:
    name: str
    members: int
    subscribed: int
    counted_at: datetime


def definition(program: Program) -> str:
    """One fingerprint of every segment's definition (one may include another)."""
    described = {name: describe(segment.condition) for name, segment in program.segments.items()}
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


def kept(conn: Connection, program: Program) -> dict[str, Counted]:
    """The counts made with the segments as they are now, by name."""
    rows = conn.execute(select(segment_counts).where(segment_counts.c.definition == definition(program)))
    return {r.name: Counted(r.name, int(r.members), int(r.subscribed), r.counted_at) for r in rows}


def count_now(conn: Connection, program: Program, names: Iterable[str], now: datetime) -> list[Counted]:
    """These segments counted now (a read: the counting never holds the writers' lock)."""
    found = []
    for name in names:
        members, subscribed = count(conn, program.segments[name], program.segments, now, program.info.zone)
        found.append(Counted(name, members, subscribed, now))
    return found


def keep(conn: Connection, program: Program, counted: list[Counted]) -> None:
    """Keep these counts (in a short write transaction) as made with the program's segments."""
    if not counted:
        return
    conn.execute(delete(segment_counts).where(segment_counts.c.name.in_([c.name for c in counted])))
    fingerprint = definition(program)
    conn.execute(
        insert(segment_counts),
        [
            {
                "name": c.name,
                "members": c.members,
                "subscribed": c.subscribed,
                "definition": fingerprint,
                "counted_at": c.counted_at,
            }
            for c in counted
        ],
    )
