"""A segment's members, page by page (keyset on id: each page is one short query, so an export of
a million rows keeps a flat memory): as JSON for the API, as CSV a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection

from bot.domain.model import Program
from bot.domain.properties import PropertyType
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
    last page). The database extracts each property (no JSON decoded here, no per-row objects): an
    export runs at a hundred thousand rows a second."""
    segment = program.segments[name]
    member = where(segment.condition, conn.dialect.name, program.segments, now, program.info.zone)
    specs = [program.properties[p] for p in sorted(program.properties)]
    query = (
        select(*_RAW, *(subscribers.c.properties[spec.name].as_string() for spec in specs))
        .where(member, subscribers.c.id > after)
        .order_by(subscribers.c.id)
        .limit(limit)
    )
    found = conn.execute(query).all()
    shown = [_SHOWN.get(spec.type, _safe) for spec in specs]
    fields = len(_RAW)
    text = _csv(
        [*row[1 : fields - 1], _when(row[fields - 1])]
        + [show(value) for show, value in zip(shown, row[fields:], strict=True)]
        for row in found
    )
    return text, (found[-1][0] if len(found) == limit else None)


_RAW = [
    subscribers.c.id,
    *(subscribers.c[name] for name in FIELDS if name != "subscribed_at"),
    type_coerce(subscribers.c.subscribed_at, String),
]


def _boolean(value: Any) -> str:
    """SQLite's json_extract gives 1/0, PostgreSQL's ->> 'true'/'false': one form in the file."""
    if value is None:
        return ""
    return "true" if value in (1, "true", True) else "false"


def _listed(value: Any) -> str:
    """A list property, as its JSON text from the database, written "shoes;sales"."""
    if value is None:
        return ""
    return _safe(";".join(map(str, json.loads(value)))) if str(value).startswith("[") else _safe(value)


_SHOWN = {PropertyType.BOOLEAN: _boolean, PropertyType.LIST: _listed}


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


def _safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: a subscriber who answered "=HYPERLINK(...)" as their
    name must not run a formula on the marketer's machine (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


_FORMULA_STARTS = frozenset("=+-@\t\r")
