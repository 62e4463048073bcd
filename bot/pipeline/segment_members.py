"""A segment's members, page by page (keyset on id: each page is one short query, so an export of
a million rows keeps a flat memory): as JSON for the API, as CSV a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, case, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection

from bot.domain.model import Program
from bot.domain.properties import PropertySpec, PropertyType
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
    last page). No per-row objects beyond a tuple: an export runs at a hundred thousand rows a
    second on either database, a page at a time."""
    segment = program.segments[name]
    dialect = conn.dialect.name
    member = where(segment.condition, dialect, program.segments, now, program.info.zone)
    specs = [program.properties[p] for p in sorted(program.properties)]
    page = (
        select(subscribers.c.id, *_fields(dialect))
        .where(member, subscribers.c.id > after)
        .order_by(subscribers.c.id)
        .limit(limit)
    )
    cells = _cells_in_sql if dialect == "postgresql" else _cells_here
    found = cells(conn, page, specs)
    return _csv(row[1:] for row in found), (found[-1][0] if len(found) == limit else None)


def _cells_in_sql(conn: Connection, page: Select[Any], specs: list[PropertySpec]) -> list[Any]:
    """PostgreSQL reads JSONB in place: it writes every cell, each worked out once in the inner
    query (the escaping CASE names its value three times)."""
    inner = page.add_columns(*(_cell(spec).label(f"p{n}") for n, spec in enumerate(specs))).subquery()
    fields = len(FIELDS) + 1
    query = select(*inner.c[:fields], *(_safe(cell) for cell in inner.c[fields:])).order_by(inner.c.id)
    return list(conn.execute(query).all())


def _cells_here(conn: Connection, page: Select[Any], specs: list[PropertySpec]) -> list[Any]:
    """SQLite parses the JSON text again for every function called on it: it hands over the
    properties' text once, parsed here once per row, written as PostgreSQL writes them."""
    names = [spec.name for spec in specs]
    loads = json.loads
    return [
        (*row[:-1], *(_shown((properties or {}).get(name)) for name in names))
        for row in conn.execute(page.add_columns(type_coerce(subscribers.c.properties, String)))
        for properties in (loads(row[-1]) if row[-1] else None,)
    ]


def _shown(value: Any) -> str | None:
    """A property's cell: as PostgreSQL's ->> writes it (JSON text for what is not a string), a list
    as its items joined with ";", escaped as _safe does."""
    if value is None:
        return None
    if isinstance(value, list):
        text = ";".join(_text(item) for item in value if item is not None)
    else:
        text = _text(value)
    return "'" + text if text and text[0] in _FORMULA_STARTS else text


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _fields(dialect: str) -> list[ColumnElement[Any]]:
    """The subscriber's own columns; subscribed_at in one form on both: "2026-11-26 10:00:00+00:00"."""
    at = subscribers.c.subscribed_at
    if dialect == "postgresql":
        seconds = func.to_char(func.timezone("UTC", at), "YYYY-MM-DD HH24:MI:SS")
    else:  # SQLite keeps UTC as text, without its zone
        seconds = func.substr(at, 1, 19)
    return [*(subscribers.c[name] for name in FIELDS if name != "subscribed_at"), seconds.concat("+00:00")]


def _cell(spec: PropertySpec) -> ColumnElement[Any]:
    """A property as the text of its cell (PostgreSQL): a list "shoes;sales", JSON text otherwise."""
    value = subscribers.c.properties[spec.name]
    text: ColumnElement[Any] = value.as_string()
    if spec.type is PropertyType.LIST:
        each = (
            func.jsonb_array_elements_text(value).table_valued("value", with_ordinality="n").render_derived()
        )
        items = select(func.string_agg(each.c.value, aggregate_order_by(literal(";"), each.c.n)))
        text = case((func.jsonb_typeof(value) == "array", items.scalar_subquery()), else_=text)
    return text


def _safe(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """A cell a spreadsheet shows as text: a subscriber who answered "=HYPERLINK(...)" as their
    name must not run a formula on the marketer's machine (OWASP's CSV injection advice)."""
    return case((func.substr(text, 1, 1).in_(list(_FORMULA_STARTS)), literal("'").concat(text)), else_=text)


_FORMULA_STARTS = "=+-@\t\r"  # a spreadsheet reads a cell starting so as a formula


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    """The rows as CSV lines; None is an empty cell."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
