"""A segment's members, page by page (keyset on id: each page is one short query, so an export of
a million rows keeps a flat memory): as JSON for the API, as CSV a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, Text, select, type_coerce
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
    return [_plain(row) for row in conn.execute(query)]


_KEYS = ("id", *FIELDS)


def _plain(row: Any) -> dict[str, Any]:
    *fields, properties = row
    member = dict(zip(_KEYS, fields, strict=True))
    at = member["subscribed_at"]
    member["subscribed_at"] = at.isoformat() if at else None
    member["properties"] = properties or {}
    return member


def csv_header(program: Program) -> str:
    return _csv([[*FIELDS, *sorted(program.properties)]])


def csv_page(
    conn: Connection, program: Program, name: str, now: datetime, after: int = 0, limit: int = PAGE
) -> tuple[str, int | None]:
    """The next page of members after id `after` as CSV lines, and the id to go on after (None: the
    last page). Read raw (no per-row conversions): an export runs at a hundred thousand rows a second."""
    segment = program.segments[name]
    member = where(segment.condition, conn.dialect.name, program.segments, now, program.info.zone)
    query = select(*_RAW).where(member, subscribers.c.id > after).order_by(subscribers.c.id).limit(limit)
    found = conn.execute(query).all()
    properties = sorted(program.properties)
    text = _csv(_raw_row(row, properties) for row in found)
    return text, (found[-1][0] if len(found) == limit else None)


_RAW = [
    subscribers.c.id,
    *(subscribers.c[name] for name in FIELDS if name != "subscribed_at"),
    type_coerce(subscribers.c.subscribed_at, String),
    type_coerce(subscribers.c.properties, Text),
]


def _raw_row(row: Any, properties: Sequence[str]) -> list[Any]:
    """Our own fields as stored (E.164 numbers, statuses, the program's words); what subscribers
    typed (properties) made safe to open."""
    given = json.loads(row[-1]) if isinstance(row[-1], str) else (row[-1] or {})
    return [*row[1:-2], _when(row[-2])] + [_safe(_cell(given.get(name))) for name in properties]


def _when(value: Any) -> str:
    """One form on both databases: "2026-11-26 10:00:00+00:00"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(sep=" ", timespec="seconds")
    return str(value)[:19] + "+00:00"  # SQLite keeps UTC without its zone


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: a subscriber who answered "=HYPERLINK(...)" as their
    name must not run a formula on the marketer's machine (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


_FORMULA_STARTS = frozenset("=+-@\t\r")
