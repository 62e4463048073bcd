"""Reads for the admin API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.schema import consent_events, flow_runs, keyword_events, messages, subscribers
from bot.store.statements import SUBSCRIBER_FIELDS


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


_SUBSCRIBER = ("phone", *SUBSCRIBER_FIELDS, "created_at")
_CONSENT = ("action", "from_status", "to_status", "keyword", "source", "text", "message_sid", "at")
_RUNS = ("flow", "status", "step", "due_at", "started_by", "started_at", "ended_at")
_KEYWORDS = ("keyword", "text", "message_sid", "at")


def _shown(row: Mapping[Any, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: iso(row[name]) if isinstance(row[name], datetime) else row[name] for name in fields}


async def _of(
    conn: AsyncConnection, table: Table, subscriber_id: int, fields: tuple[str, ...]
) -> list[dict[str, Any]]:
    found = await conn.execute(
        select(table).where(table.c.subscriber_id == subscriber_id).order_by(table.c.id)
    )
    return [_shown(row, fields) for row in found.mappings()]


async def subscriber_record(engine: AsyncEngine, phone: str) -> dict[str, Any] | None:
    """A subscriber's record as a carrier or a court would ask for it: status, consent log, flows."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(subscribers).where(subscribers.c.phone == phone))).mappings().first()
        if row is None:
            return None
        record = _shown(row, _SUBSCRIBER)
        record["properties"] = row["properties"] or {}
        record["consent"] = await _of(conn, consent_events, row["id"], _CONSENT)
        record["flows"] = await _of(conn, flow_runs, row["id"], _RUNS)
        record["keywords"] = await _of(conn, keyword_events, row["id"], _KEYWORDS)
        return record


async def subscriber_messages(engine: AsyncEngine, phone: str) -> list[dict[str, Any]] | None:
    async with engine.connect() as conn:
        subscriber_id = await conn.scalar(select(subscribers.c.id).where(subscribers.c.phone == phone))
        if subscriber_id is None:
            return None
        rows = (
            await conn.execute(
                select(messages).where(messages.c.subscriber_id == subscriber_id).order_by(messages.c.id)
            )
        ).mappings()
        return [
            {
                "direction": r["direction"],
                "body": r["body"],
                "media_urls": r["media_urls"] or [],
                "sid": r["sid"],
                "ref": r["ref"],
                "status": r["status"],
                "error_code": r["error_code"],
                "at": iso(r["created_at"]),
            }
            for r in rows
        ]
