"""What segments read per subscriber instead of their history (`subscribers.engaged_at` and
`keywords_texted`), computed from that history: for subscribers stored before the columns were
(migration 0008), and for rows written around the pipeline (tests, benchmarks). The pipeline keeps
them itself as messages and clicks arrive (`pipeline/changes.py`, `pipeline/clicks.py`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from bot.store.rows import texted_at
from bot.store.schema import clicks, keyword_events, messages, subscribers

CHUNK = 10_000  # subscribers per round: each round's reads are ranges of the subscriber indexes


def fill_summaries(conn: Connection) -> None:
    """Every subscriber's summaries from their messages, clicks and keyword events."""
    last = 0
    while True:
        ids = list(
            conn.scalars(
                select(subscribers.c.id)
                .where(subscribers.c.id > last)
                .order_by(subscribers.c.id)
                .limit(CHUNK)
            )
        )
        if not ids:
            return
        _fill(conn, ids[0], ids[-1])
        last = ids[-1]


def _fill(conn: Connection, first: int, last: int) -> None:
    engaged = _engaged(conn, first, last)
    keywords: dict[int, dict[str, Any]] = {}
    for subscriber_id, keyword, times, at in conn.execute(
        select(
            keyword_events.c.subscriber_id,
            keyword_events.c.keyword,
            func.count(),
            func.max(keyword_events.c.at),
        )
        .where(keyword_events.c.subscriber_id.between(first, last))
        .group_by(keyword_events.c.subscriber_id, keyword_events.c.keyword)
    ):
        summary = {"times": int(times), "last": texted_at(_utc(at))}
        keywords.setdefault(subscriber_id, {})[keyword] = summary
    changed = [
        {"b_id": i, "b_engaged_at": engaged.get(i), "b_keywords_texted": keywords.get(i)}
        for i in sorted(engaged.keys() | keywords.keys())
    ]
    if changed:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == bindparam("b_id"))
            .values(engaged_at=bindparam("b_engaged_at"), keywords_texted=bindparam("b_keywords_texted")),
            changed,
        )


def _engaged(conn: Connection, first: int, last: int) -> dict[int, datetime]:
    """When each subscriber of the range last texted us or clicked a tracked link (not a preview)."""
    texted_us = (
        select(messages.c.subscriber_id, func.max(messages.c.created_at))
        .where(messages.c.direction == "inbound", messages.c.subscriber_id.between(first, last))
        .group_by(messages.c.subscriber_id)
    )
    clicked = (
        select(clicks.c.subscriber_id, func.max(clicks.c.at))
        .where(clicks.c.preview.is_(False), clicks.c.subscriber_id.between(first, last))
        .group_by(clicks.c.subscriber_id)
    )
    engaged: dict[int, datetime] = {}
    for query in (texted_us, clicked):
        for subscriber_id, at in conn.execute(query):
            engaged[subscriber_id] = max(_utc(at), engaged.get(subscriber_id, _utc(at)))
    return engaged


def _utc(at: datetime | str) -> datetime:
    """max() of a UTC column: a datetime on PostgreSQL, on SQLite the stored text (no type comes
    back through an aggregate)."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
