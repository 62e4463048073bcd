"""An existing list brought in: read and checked a batch ahead of the writer (in a second process,
bot/pipeline/import_ahead.py), each batch written in a transaction of its own.

Importing never texts anyone: it writes subscribers and their consent records, nothing in the
outbox, no flow run, no store event. Each batch of BATCH rows is its own transaction, so SQLite's
write lock is let go between batches and the live webhook keeps answering. A bad row stops the
import at its batch (unless bad rows are skipped): the batches before it stay written, every bad
row is named, and running the mended file again finishes the import, since a re-import changes
nothing already imported.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.import_decisions import Decision, Effect, Existing, decide
from bot.domain.import_records import STORED, consent_record, move, new_subscriber
from bot.domain.list_import import ImportProblem, ImportRow, Plan, RowProblem
from bot.domain.subscription import Status
from bot.pipeline.import_ahead import BATCH, SHOWN, Ahead, Checked, Ending, Statements, can_fork, rows_of
from bot.pipeline.segment_entries import note_imported
from bot.pipeline.suppression import SuppressionKey, check_key
from bot.store import activity, rows
from bot.store.bulk import executemany
from bot.store.db import WriteTransactions
from bot.store.lists import one_of
from bot.store.schema import consent_events, subscribers, suppressions
from bot.store.statements import (
    INSERT_SUBSCRIBER,
    SUBSCRIBER_FIELDS,
    SUBSCRIBERS_BY_PHONE,
    UPDATE_SUBSCRIBER,
)

__all__ = ["BATCH", "SHOWN", "Plan", "Report", "import_batch", "import_into", "read_csv"]

_OURS = select(subscribers.c.phone, subscribers.c.id).where(  # the numbers just made, by id
    subscribers.c.id > bindparam("before"), subscribers.c.created_at == bindparam("now")
)
_LAST_CONSENT = (
    select(func.max(consent_events.c.at))
    .where(consent_events.c.subscriber_id == subscribers.c.id)
    .scalar_subquery()
)
_DECIDING = {  # what a decision reads of the numbers already here
    dialect: select(
        subscribers.c.id,
        subscribers.c.phone,
        subscribers.c.status,
        subscribers.c.language,
        subscribers.c.properties,
        _LAST_CONSENT.label("last_consent_at"),
    ).where(among)
    for dialect, among in one_of(subscribers.c.phone, "phones").items()
}
_KNOWN = {  # the batch's numbers already here
    dialect: select(subscribers.c.phone).where(among)
    for dialect, among in one_of(subscribers.c.phone, "phones").items()
}
_ERASED = {  # the batch's numbers erased on request, by their digests
    dialect: select(suppressions.c.digest).where(among)
    for dialect, among in one_of(suppressions.c.digest, "digests").items()
}
_IMPORTS_LOCK = 0x736D73626F74_01  # "smsbot", imports: an advisory lock's key on PostgreSQL
AGAIN = "mend the file and import it again (what is imported already stays as it is)"
_STATUS = {text: status for status, text in STORED.items()}


@dataclass
class Report:
    rows: int = 0
    effects: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    bad: int = 0
    kept: Counter[str] = field(default_factory=Counter)  # why rows were kept as they are here
    ignored_columns: tuple[str, ...] = ()
    written: bool = False  # every good row written (none bad, or bad rows skipped)
    through_line: int = 0  # the last line of the batches written
    stopped_at: int | None = None  # the first bad row's line, where the writing stopped

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "written": self.written,
            "through_line": self.through_line,
            "stopped_at": self.stopped_at,
            **{str(e): self.effects[e] for e in (*Effect, "subscribed", "unsubscribed", "busy")},
            "kept": sum(
                self.kept.values()
            ),  # consent the file disagreed about (its other columns may fill in)
            "bad": self.bad,
            "problems": [str(p) for p in self.problems[:SHOWN]],
            "kept_because": dict(self.kept),
            "ignored_columns": list(self.ignored_columns),
        }

    def end(self, ending: Ending, skip_bad: bool) -> None:
        """What the reading found in the whole file, once the writing is over."""
        if ending.unreadable:
            done = (
                [f"lines 2-{self.through_line} were imported before it: {AGAIN}"] if self.through_line else []
            )
            raise ImportProblem([*ending.unreadable, *done])
        self.rows, self.bad, self.problems = ending.rows, ending.bad, ending.row_problems()
        self.ignored_columns = ending.ignored_columns
        self.written = not ending.bad or skip_bad
        self.stopped_at = None if self.written else ending.first_bad
        for name in list(self.effects):
            if name.startswith("kept: "):
                self.kept[name[6:]] = self.effects.pop(name)


def read_csv(data: TextIO) -> Iterator[list[str]]:
    """The rows of a CSV file or text, read as they go (a comma, semicolon or tab between cells,
    as the header shows). `data` is opened with newline="" (or is a StringIO)."""
    first = data.readline()
    data.seek(0)
    return csv.reader(data, delimiter=max((",", ";", "\t"), key=first.count))


def import_batch(conn: Connection, checked: Checked, plan: Plan, statements: Statements) -> Counter[str]:
    """One batch decided and written in the caller's transaction; what it did, counted. A number
    new to the list (once in the batch, never erased) is written as the reader made it; the rest
    are decided against what is kept here."""
    if conn.dialect.name == "postgresql":  # one import's batch at a time: its records are its own
        conn.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _IMPORTS_LOCK})
    records_before = conn.scalar(select(func.max(consent_events.c.id))) or 0
    phones = checked.phones
    dialect = conn.dialect.name
    known = set(conn.scalars(_KNOWN[dialect], {"phones": phones}))
    unknown = [digest for phone, digest in zip(phones, checked.digests, strict=True) if phone not in known]
    erased = set(conn.scalars(_ERASED[dialect], {"digests": unknown})) if unknown else set()
    seen = Counter(phones)
    new: list[int] = []
    others: list[int] = []
    for i, phone in enumerate(phones):
        alone = phone not in known and seen[phone] == 1 and checked.digests[i] not in erased
        (new if alone else others).append(i)
    written: list[int] = []  # the subscribers written (made or changed)
    effects = _write_new(conn, checked, new, plan, statements, written) if new else Counter[str]()
    if others:
        book = _Book(plan, _existing(conn, {phones[i] for i in others} & known))
        handed = rows_of(checked)
        for i in others:
            row = handed[i]
            book.take(row, decide(row, book.state(row.phone), checked.digests[i] in erased))
        effects.update(book.write(conn, written))
    activity.count_bulk(conn, "consent_events", records_before)
    note_imported(conn, plan.program, written, plan.now)
    return effects


def _write_new(
    conn: Connection, checked: Checked, new: list[int], plan: Plan, statements: Statements, written: list[int]
) -> Counter[str]:
    """Numbers new to the list: their subscribers, then (by the ids given) their consent records."""
    before = _last_id(conn)
    conn.exec_driver_sql(statements.subscriber.sql, [checked.subscribers[i] for i in new])
    ids = _made_since(conn, before, plan.now, written)
    phones = checked.phones
    made = [i for i in new if phones[i] in ids]
    if made:
        records = [statements.consent_of(checked.consents[i], ids[phones[i]]) for i in made]
        conn.exec_driver_sql(statements.consent.sql, records)
    status = statements.subscriber.keys.index("status")  # as stored: 'subscribed' or 'unsubscribed'
    effects = Counter(checked.subscribers[i][status] for i in made)
    effects[Effect.CREATED] = len(made)
    effects["busy"] = len(new) - len(made)
    return effects


def _last_id(conn: Connection) -> int:
    return conn.scalar(select(func.max(subscribers.c.id))) or 0


def _made_since(conn: Connection, before: int, now: datetime, written: list[int]) -> dict[str, int]:
    """The subscribers this import made since id `before`, by phone (added to `written`). A number
    that texted in while its batch was read is not among them: it is left to a run again."""
    ids: dict[str, int] = dict(conn.execute(_OURS, {"before": before, "now": now}).all())
    written.extend(ids.values())
    return ids


def _existing(conn: Connection, phones: set[str]) -> dict[str, rows.Row]:
    """What a decision reads of the numbers already here (the rest is read for those it changes)."""
    if not phones:
        return {}
    query = _DECIDING[conn.dialect.name]
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=subscribers)  # the webhook's writer locks these rows too
    return {row["phone"]: dict(row) for row in conn.execute(query, {"phones": sorted(phones)}).mappings()}


class _Book:
    """A batch's changes to numbers already here (or twice in it), kept by number, so that a
    number twice in a file is decided against what its earlier row did."""

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
        source, now = self.plan.source, self.plan.now
        if decision.effect is Effect.CREATED:
            self.effects[str(row.status)] += 1
            self.created[row.phone] = new_subscriber(row, source, now)
            self.consented[row.phone] = row.consented_at or now
            self.consent.append((row.phone, consent_record(row, source, now, Status.NEW, row.status)))
        elif decision.effect in (Effect.CHANGED, Effect.FILLED):
            stored = self.created.get(row.phone) or self.known[row.phone]
            if row.phone not in self.created:
                self.changed.add(row.phone)
            if decision.properties:
                stored["properties"] = decision.properties
            if decision.language:
                stored["language"], stored["language_source"] = decision.language, "import"
            if decision.to_status is not None:
                before = Status(stored["status"])
                self.consent.append((row.phone, consent_record(row, source, now, before, decision.to_status)))
                move(stored, row, decision.to_status, source, now)
                self.consented[row.phone] = row.consented_at or now

    def write(self, conn: Connection, written: list[int]) -> Counter[str]:
        ids = {phone: row["id"] for phone, row in self.known.items()}
        if self.created:
            before = _last_id(conn)
            executemany(conn, INSERT_SUBSCRIBER[conn.dialect.name], list(self.created.values()))
            ours = _made_since(conn, before, self.plan.now, written)
            self.effects["busy"] += len(self.created) - len(ours)
            ids.update(ours)
        if self.changed:
            stored = {
                row["phone"]: row
                for row in conn.execute(SUBSCRIBERS_BY_PHONE, {"phones": list(self.changed)}).mappings()
            }
            changes = [_update({**stored[p], **self.known[p]}, self.plan.now) for p in self.changed]
            executemany(conn, UPDATE_SUBSCRIBER, changes)
            written.extend(self.known[p]["id"] for p in self.changed)
        records = [{**record, "subscriber_id": ids[phone]} for phone, record in self.consent if phone in ids]
        if records:
            executemany(conn, consent_events.insert(), records)
        return self.effects


def _update(row: rows.Row, now: datetime) -> dict[str, Any]:
    return {"b_id": row["id"], "b_updated_at": now, **{f"b_{name}": row[name] for name in SUBSCRIBER_FIELDS}}


async def run(
    ahead: Ahead,
    skip_bad: bool,
    write_batch: Callable[[Checked], Awaitable[Counter[str]]],
    progress: Callable[[int], None] = lambda n: None,
) -> Report:
    """Each batch the reader hands over written through `write_batch`, then what the whole file
    held. ImportProblem where the file could not be read (after the batches before that line)."""
    report = Report()
    try:
        while isinstance(message := await ahead.next(), Checked):
            report.effects.update(await write_batch(message))
            report.through_line = message.last_line
            progress(len(message.phones))
    finally:
        ahead.close()
    report.end(message, skip_bad)
    return report


async def import_into(
    engine: AsyncEngine,
    database_url: str,
    key: SuppressionKey,
    lines: Iterable[Sequence[str]],
    plan: Plan,
    progress: Callable[[int], None] = lambda n: None,
    apart: bool | None = None,
) -> Report:
    """`run` on a database: the file read ahead in a second process (`apart`: wherever the system
    can fork), each batch in a write transaction of its own (behind SQLite's writer lock, like
    every other writer). KeyMismatch before anything when the suppression key changed."""
    transactions = WriteTransactions(engine, database_url, name="import-db")
    try:
        statements = await transactions.run(_ready, key)
        ahead = Ahead(lines, plan, key, statements, apart=can_fork() if apart is None else apart)

        async def write_batch(batch: Checked) -> Counter[str]:
            return await transactions.run(import_batch, batch, plan, statements)

        return await run(ahead, plan.skip_bad, write_batch, progress)
    finally:
        transactions.close()


def _ready(conn: Connection, key: SuppressionKey) -> Statements:
    check_key(conn, key)
    return Statements.of(conn.dialect)
