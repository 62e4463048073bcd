"""A segment's members, page by page (keyset on id: each page is one short query, so an export of
a million rows keeps a flat memory), and as CSV rows a spreadsheet can open safely."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.domain.model import Program
from bot.store.schema import subscribers
from bot.store.segments import where

PAGE = 5_000
FIELDS = ("phone", "status", "language", "country", "opt_in_source", "opt_in_keyword", "subscribed_at")
_COLUMNS = [subscribers.c.id, *(subscribers.c[name] for name in FIELDS), subscribers.c.properties]


def members_page(
    conn: Connection, program: Program, name: str, now: datetime, after: int = 0, limit: int = PAGE
) -> list[dict[str, Any]]:
    """Up to `limit` members of segment `name` with an id above `after`, in id order."""
    segment = program.segments[name]
    member = where(segment.condition, conn.dialect.name, program.segments, now, program.info.zone)
    query = select(*_COLUMNS).where(member, subscribers.c.id > after).order_by(subscribers.c.id).limit(limit)
    return [_plain(dict(row)) for row in conn.execute(query).mappings()]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    at = row["subscribed_at"]
    return {**row, "subscribed_at": at.isoformat() if at else None, "properties": row["properties"] or {}}


def csv_lines(pages: Iterator[Sequence[dict[str, Any]]], properties: Sequence[str]) -> Iterator[str]:
    """The header, then one line per member: the fields, then one column per declared property."""
    yield _line([*FIELDS, *properties])
    for page in pages:
        for member in page:
            values = [member[name] for name in FIELDS]
            values += [_cell(member["properties"].get(name)) for name in properties]
            yield _line(values)


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _line(values: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_safe(v) for v in values])
    return out.getvalue()


def _safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: a subscriber who answered "=HYPERLINK(...)" as their
    name must not run a formula on the marketer's machine (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_phone(text) else text


def _is_phone(text: str) -> bool:
    return text.startswith("+") and text[1:].isdigit()
