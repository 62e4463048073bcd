"""The audit log: what was done from the dashboard, when and from where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from bot.store.schema import audit_log


def record(conn: Connection, at: datetime, address: str, action: str, detail: str | None = None) -> None:
    conn.execute(
        audit_log.insert().values(
            at=at, address=address[:64], action=action[:40], detail=detail[:200] if detail else None
        )
    )
