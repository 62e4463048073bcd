"""Everything held about one number, as one JSON document (GDPR Art. 15, CCPA's right to know).

Complete by construction: every table with a `subscriber_id` column gives its rows for the
subscriber, and the store's events are also found by the phone (a customer's order from before they
subscribed). A new table that holds a subscriber's rows is in the export without a change here.
"""

from __future__ import annotations

from base64 import b64encode
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.engine import Connection

from bot.store.schema import metadata, subscribers

FORMAT = 1  # the document's shape, for whoever reads it later


def export(conn: Connection, phone: str, now: datetime) -> dict[str, Any] | None:
    """The document, or None when the number is held nowhere."""
    record = conn.execute(select(subscribers).where(subscribers.c.phone == phone)).mappings().first()
    held = {
        table.name: _rows(conn, table, record["id"] if record else None, phone) for table in holding_tables()
    }
    if record is None and not any(held.values()):
        return None
    return {
        "format": FORMAT,
        "phone": phone,
        "exported_at": now.isoformat(),
        "subscriber": _plain(dict(record)) if record else None,
        **held,
    }


def holding_tables() -> list[Table]:
    """The tables that hold rows of a subscriber, in the schema's order."""
    return [
        table
        for table in metadata.sorted_tables
        if table is not subscribers and ("subscriber_id" in table.c or "phone" in table.c)
    ]


def _rows(conn: Connection, table: Table, subscriber_id: int | None, phone: str) -> list[dict[str, Any]]:
    found = []
    if "subscriber_id" in table.c and subscriber_id is not None:
        found.append(table.c.subscriber_id == subscriber_id)
    if "phone" in table.c:
        found.append(table.c.phone == phone)
    if not found:
        return []
    rows = conn.execute(select(table).where(or_(*found)).order_by(*table.primary_key.columns)).mappings()
    return [_plain(dict(row)) for row in rows]


def _plain(value: Any) -> Any:
    """JSON's own types: times in ISO 8601, amounts as text, bytes in base64."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return b64encode(value).decode()
    return value
