"""The audit log: what was done from the dashboard or the admin API, when, from where and by whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from bot.domain.inbound import safe_text
from bot.store.schema import audit_log


def record(
    conn: Connection,
    at: datetime,
    address: str,
    action: str,
    detail: str | None = None,
    user: str | None = None,  # a dashboard user's name; None: the admin API's token, or the command line
) -> None:
    conn.execute(
        audit_log.insert().values(
            at=at,
            address=safe_text(address[:64]),
            action=safe_text(action[:40]),
            detail=safe_text(detail[:200]) if detail else None,  # what a form said: a NUL too
            user_name=safe_text(user[:60]) if user else None,
        )
    )
