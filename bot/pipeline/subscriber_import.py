"""An existing list brought in: checked whole first, then written a batch per transaction.

Importing never texts anyone: it writes subscribers and their consent records, nothing in the
outbox, no flow run, no store event. Checked first: one bad row and nothing is written (unless the
caller chooses to skip bad rows). Each batch of BATCH rows is its own transaction, so SQLite's
write lock is let go between batches and the live webhook keeps answering; an import stopped
half-way is finished by running it again, since a re-import changes nothing already imported.
"""

from __future__ import annotations

import asyncio
import csv
import pickle
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import IO, Any, TextIO

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.import_decisions import Decision, Effect, Existing, decide
from bot.domain.list_import import ImportProblem, ImportRow, RowProblem, plan_columns, read_row
from bot.domain.model import Program
from bot.domain.phones import region_of
from bot.domain.subscription import Status
from bot.pipeline.suppression import SuppressionKey, check_key, suppressed
from bot.store import rows
from bot.store.bulk import executemany
from bot.store.db import WriteTransactions
from bot.store.schema import consent_events, subscribers
from bot.store.statements import (
    INSERT_SUBSCRIBER,
    SUBSCRIBER_FIELDS,
    SUBSCRIBERS_BY_PHONE,
    UPDATE_SUBSCRIBER,
)

_MADE_NOW = select(subscribers.c.phone, subscribers.c.id).where(
    subscribers.c.phone.in_(bindparam("phones", expanding=True)),
    subscribers.c.created_at == bindparam("now"),
)
_TEXT = {status: status.value for status in Status}  # as stored (an enum's .value is slow)
_STATUS = {text: status for status, text in _TEXT.items()}
BATCH = 5_000
SHOWN = 50  # bad rows listed in a report (all are counted)
IMPORTED = "imported"  # the consent record's action
_WHEN_UNKNOWN = " (no consent time in the file: the time of the import is kept)"


@dataclass
class Plan:
    """How to read the file: its columns, and what the rows are checked against."""

    name: str  # the file's name, kept in each consent record as import:<name>
    program: Program
    country: str  # of numbers written without one
    now: datetime
    mapping: Mapping[str, str] = field(default_factory=dict)
    preset: str | None = None
    status: Status | None = None  # every row's status, for a file without a status column
    skip_bad: bool = False  # import the good rows when some are bad

    @property
    def source(self) -> str:
        return f"import:{self.name}"[:100]


@dataclass
class Report:
    rows: int = 0
    effects: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    bad: int = 0
    kept: Counter[str] = field(default_factory=Counter)  # why rows were kept as they are here
    ignored_columns: tuple[str, ...] = ()
    written: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "written": self.written,
            **{str(e): self.effects[e] for e in (*Effect, "subscribed", "unsubscribed", "busy")},
            "kept": sum(
                self.kept.values()
            ),  # consent the file disagreed about (its other columns may fill in)
            "bad": self.bad,
            "problems": [str(p) for p in self.problems[:SHOWN]],
            "kept_because": dict(self.kept),
            "ignored_columns": list(self.ignored_columns),
        }


def read_csv(data: TextIO) -> Iterator[list[str]]:
    """The rows of a CSV file or text, read as they go (a comma, semicolon or tab between cells,
    as the header shows). `data` is opened with newline="" (or is a StringIO)."""
    first = data.readline()
    data.seek(0)
    return csv.reader(data, delimiter=max((",", ";", "\t"), key=first.count))


def check(lines: Iterable[Sequence[str]], plan: Plan, report: Report, spill: IO[bytes]) -> None:
    """Every row read once: its problems in `report`, the good rows kept in `spill` a batch at a
    time (so that a file of millions is neither read twice nor held in memory). ImportProblem for
    a file whose header cannot be read."""
    iterator = _readable(lines)
    header = next(iterator, None) or []
    columns = plan_columns(header, plan.program, plan.mapping, plan.preset, plan.status)
    report.ignored_columns = columns.ignored
    program, now, country = plan.program, plan.now, plan.country
    batch: list[ImportRow] = []
    for line, values in enumerate(iterator, start=2):
        if not any(values):
            continue
        report.rows += 1
        try:
            batch.append(read_row(columns, values, line, program, now, country))
        except RowProblem as problem:
            report.bad += 1
            if len(report.problems) < SHOWN:
                report.problems.append(problem)
        if len(batch) >= BATCH:
            pickle.dump(batch, spill, pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        pickle.dump(batch, spill, pickle.HIGHEST_PROTOCOL)


def _readable(lines: Iterable[Sequence[str]]) -> Iterator[Sequence[str]]:
    """The rows; ImportProblem, with the line, where the file stops being CSV (a cell past the csv
    module's size limit, a stray quote in strict mode)."""
    iterator = iter(lines)
    while True:
        try:
            values = next(iterator)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportProblem(
                [f"line {getattr(lines, 'line_num', '?')}: not CSV as expected: {exc}"]
            ) from None
        yield values


def _next_batch(spill: IO[bytes]) -> list[ImportRow] | None:
    try:
        batch: list[ImportRow] = pickle.load(spill)  # our own file, written just now
    except EOFError:
        return None
    return batch


def import_batch(
    conn: Connection, batch: Sequence[ImportRow], plan: Plan, key: SuppressionKey
) -> Counter[str]:
    """One batch decided and written in the caller's transaction; what it did, counted."""
    known = _existing(conn, {row.phone for row in batch})
    erased = suppressed(conn, key, {row.phone for row in batch} - set(known))
    book = _Book(plan, known)
    for row in batch:
        book.take(row, decide(row, book.state(row.phone), row.phone in erased))
    return book.write(conn)


def _existing(conn: Connection, phones: set[str]) -> dict[str, rows.Row]:
    query = SUBSCRIBERS_BY_PHONE
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # the webhook's writer locks these rows too
    found = {row["phone"]: dict(row) for row in conn.execute(query, {"phones": sorted(phones)}).mappings()}
    if found:
        last = conn.execute(
            select(consent_events.c.subscriber_id, func.max(consent_events.c.at))
            .where(consent_events.c.subscriber_id.in_([row["id"] for row in found.values()]))
            .group_by(consent_events.c.subscriber_id)
        ).all()
        newest = dict(last)
        for row in found.values():
            row["last_consent_at"] = newest.get(row["id"])
    return found


class _Book:
    """A batch's changes, kept by number, so that a number twice in a file is decided against
    what its earlier row did."""

    def __init__(self, plan: Plan, known: dict[str, rows.Row]) -> None:
        self.plan = plan
        self.known = known  # stored subscribers by phone (changed in place)
        self.created: dict[str, rows.Row] = {}
        self.changed: set[str] = set()
        self.consented: dict[str, datetime] = {}  # the consent time this batch gave a number
        self.consent: list[tuple[str, rows.Row]] = []  # (phone, record without its subscriber id)
        self.effects: Counter[str] = Counter()

    def state(self, phone: str) -> Existing | None:
        row = self.created.get(phone) or self.known.get(phone)
        if row is None:
            return None
        return Existing(
            _STATUS[row["status"]],
            self.consented.get(phone, row.get("last_consent_at")),
            row["language"],
            row["properties"] or {},
        )

    def take(self, row: ImportRow, decision: Decision) -> None:
        self.effects[decision.effect] += 1
        if decision.why:  # the file disagreed about consent, and what is kept here won
            self.effects[f"kept: {decision.why}"] += 1
        if decision.effect is Effect.CREATED:
            self.effects[str(row.status)] += 1
            self.created[row.phone] = self._new(row)
            self._record(row, Status.NEW, row.status)
        elif decision.effect in (Effect.CHANGED, Effect.FILLED):
            stored = self.created.get(row.phone) or self.known[row.phone]
            if row.phone not in self.created:
                self.changed.add(row.phone)
            if decision.properties:
                stored["properties"] = decision.properties
            if decision.language:
                stored["language"], stored["language_source"] = decision.language, "import"
            if decision.to_status is not None:
                self._record(row, Status(stored["status"]), decision.to_status)
                self._move(stored, row, decision.to_status)

    def _new(self, row: ImportRow) -> rows.Row:
        stored: rows.Row = {
            "phone": row.phone,
            "country": _region(row.phone),
            "created_at": self.plan.now,
            "updated_at": self.plan.now,
            "language": row.language,
            "language_source": "import" if row.language else None,
            "opt_in_source": None,
            "opt_in_keyword": None,
            "properties": dict(row.properties),
            "subscribed_at": None,
            "unsubscribed_at": None,
        }
        self._move(stored, row, row.status)
        return stored

    def _move(self, stored: rows.Row, row: ImportRow, status: Status) -> None:
        at = row.consented_at or self.plan.now
        stored["status"] = _TEXT[status]
        self.consented[row.phone] = at
        if status is Status.SUBSCRIBED:
            stored["subscribed_at"] = at
            stored["opt_in_source"], stored["opt_in_keyword"] = self.plan.source, row.keyword
        else:
            stored["unsubscribed_at"] = at

    def _record(self, row: ImportRow, before: Status, after: Status) -> None:
        self.consent.append(
            (
                row.phone,
                {
                    "action": IMPORTED,
                    "from_status": _TEXT[before],
                    "to_status": _TEXT[after],
                    "keyword": None,  # the keyword's own counts are for keywords texted here
                    "source": self.plan.source,
                    "text": _evidence(row),
                    "message_sid": None,
                    "at": row.consented_at or self.plan.now,
                },
            )
        )

    def write(self, conn: Connection) -> Counter[str]:
        ids = {phone: row["id"] for phone, row in self.known.items()}
        if self.created:
            executemany(conn, INSERT_SUBSCRIBER[conn.dialect.name], list(self.created.values()))
            # A number that texted in while this batch was read is left to a run again.
            ours = dict(conn.execute(_MADE_NOW, {"phones": list(self.created), "now": self.plan.now}).all())
            self.effects["busy"] += len(self.created) - len(ours)
            ids.update(ours)
        if self.changed:
            executemany(
                conn, UPDATE_SUBSCRIBER, [_update(self.known[p], self.plan.now) for p in self.changed]
            )
        records = [{**record, "subscriber_id": ids[phone]} for phone, record in self.consent if phone in ids]
        executemany(conn, consent_events.insert(), records)
        return self.effects


def _evidence(row: ImportRow) -> str:
    """The consent record's text: where in the file, and its consent columns as given."""
    unknown = _WHEN_UNKNOWN if row.consented_at is None else ""
    return f"line {row.line}: {row.evidence}{unknown}"[:2000]


def _update(row: rows.Row, now: datetime) -> dict[str, Any]:
    return {"b_id": row["id"], "b_updated_at": now, **{f"b_{name}": row[name] for name in SUBSCRIBER_FIELDS}}


@lru_cache(maxsize=4096)
def _nanp_region(prefix: str) -> str | None:
    return region_of(prefix + "5550123")  # the area code alone places a +1 number


def _region(phone: str) -> str | None:
    return _nanp_region(phone[:5]) if phone.startswith("+1") and len(phone) == 12 else region_of(phone)


async def run(
    lines: Iterable[Sequence[str]],
    plan: Plan,
    write_batch: Callable[[Sequence[ImportRow]], Awaitable[Counter[str]]],
    progress: Callable[[int], None] = lambda n: None,
) -> Report:
    """Check the file, then (when it may) write it a batch at a time through `write_batch`. The
    reading is done off the event loop: a web process keeps answering while a big file is read."""
    report = Report()
    with tempfile.TemporaryFile() as spill:  # the system's temporary directory
        await asyncio.to_thread(check, lines, plan, report, spill)
        if report.bad and not plan.skip_bad:
            return report
        spill.seek(0)
        while (batch := await asyncio.to_thread(_next_batch, spill)) is not None:
            report.effects.update(await write_batch(batch))
            progress(len(batch))
    report.written = True
    for name in list(report.effects):
        if name.startswith("kept: "):
            report.kept[name[6:]] = report.effects.pop(name)
    return report


async def import_into(
    engine: AsyncEngine,
    database_url: str,
    key: SuppressionKey,
    lines: Iterable[Sequence[str]],
    plan: Plan,
    progress: Callable[[int], None] = lambda n: None,
) -> Report:
    """`run` on a database: each batch in a write transaction of its own (behind SQLite's writer
    lock, like every other writer). KeyMismatch before anything when the suppression key changed."""
    transactions = WriteTransactions(engine, database_url, name="import-db")
    try:
        await transactions.run(check_key, key)

        async def write_batch(batch: Sequence[ImportRow]) -> Counter[str]:
            return await transactions.run(import_batch, batch, plan, key)

        return await run(lines, plan, write_batch, progress)
    finally:
        transactions.close()
