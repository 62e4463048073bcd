"""Reads for the admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import consent_events, flow_runs, keyword_events, messages, subscribers


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


async def subscriber_record(engine: AsyncEngine, phone: str) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(subscribers).where(subscribers.c.phone == phone))).mappings().first()
        if row is None:
            return None
        consent = (
            await conn.execute(
                select(consent_events)
                .where(consent_events.c.subscriber_id == row["id"])
                .order_by(consent_events.c.id)
            )
        ).mappings()
        keywords = (
            await conn.execute(
                select(keyword_events)
                .where(keyword_events.c.subscriber_id == row["id"])
                .order_by(keyword_events.c.id)
            )
        ).mappings()
        runs = (
            await conn.execute(
                select(flow_runs).where(flow_runs.c.subscriber_id == row["id"]).order_by(flow_runs.c.id)
            )
        ).mappings()
        return {
            "phone": row["phone"],
            "status": row["status"],
            "language": row["language"],
            "language_source": row["language_source"],
            "opt_in_source": row["opt_in_source"],
            "opt_in_keyword": row["opt_in_keyword"],
            "properties": row["properties"] or {},
            "created_at": _iso(row["created_at"]),
            "subscribed_at": _iso(row["subscribed_at"]),
            "unsubscribed_at": _iso(row["unsubscribed_at"]),
            "consent": [
                {
                    "action": c["action"],
                    "from_status": c["from_status"],
                    "to_status": c["to_status"],
                    "keyword": c["keyword"],
                    "source": c["source"],
                    "text": c["text"],
                    "message_sid": c["message_sid"],
                    "at": _iso(c["at"]),
                }
                for c in consent
            ],
            "flows": [
                {
                    "flow": r["flow"],
                    "status": r["status"],
                    "step": r["step"],
                    "due_at": _iso(r["due_at"]),
                    "started_by": r["started_by"],
                    "started_at": _iso(r["started_at"]),
                    "ended_at": _iso(r["ended_at"]),
                }
                for r in runs
            ],
            "keywords": [
                {
                    "keyword": k["keyword"],
                    "text": k["text"],
                    "message_sid": k["message_sid"],
                    "at": _iso(k["at"]),
                }
                for k in keywords
            ],
        }


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
                "at": _iso(r["created_at"]),
            }
            for r in rows
        ]
