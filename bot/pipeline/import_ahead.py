"""An imported list read and checked ahead of the writer: in a second process where the system can
fork, so that checking a batch and writing the one before it run on two cores at once.

Each batch of good rows is handed over ready to write: the values of each number as a new
subscriber and of its consent record, converted for the database by the same prepared statements
the writer runs (so what is stored is the same to the byte), and each number's suppression
digest. The writer only decides the numbers it already holds. A bad row stops the batches (unless
bad rows are skipped): what was handed over before it is written, nothing from its batch on, and
the reading goes on to the end so that every bad row is named at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import multiprocessing
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any, NamedTuple

from sqlalchemy.engine import Dialect

from bot.domain.import_records import new_records, new_subscribers
from bot.domain.list_import import ImportProblem, ImportRow, Plan, RowProblem, plan_columns, read_row
from bot.pipeline.suppression import SuppressionKey
from bot.store.bulk import Prepared, prepare
from bot.store.statements import INSERT_CONSENT, INSERT_SUBSCRIBER

BATCH = 5_000
AHEAD = 4  # batches read ahead of the writer at most (a few megabytes)
_PROTOCOL = pickle.HIGHEST_PROTOCOL
SHOWN = 50  # bad rows named in a report (all are counted)
_SUBSCRIBER_KEYS = (
    "phone", "country", "created_at", "updated_at", "language", "language_source", "opt_in_source",
    "opt_in_keyword", "properties", "subscribed_at", "unsubscribed_at", "status",
)  # fmt: skip
_CONSENT_KEYS = (
    "subscriber_id",
    "action",
    "from_status",
    "to_status",
    "keyword",
    "source",
    "text",
    "message_sid",
    "at",
)


class Checked(NamedTuple):
    """A batch of good rows, as plain values (cheap to hand from one process to another)."""

    last_line: int
    phones: list[str]
    digests: list[str]  # each number's suppression digest
    rows: bytes  # each ImportRow, pickled: read only for the numbers decided here
    subscribers: list[tuple[Any, ...]]  # each number's values as a new subscriber
    consents: list[tuple[Any, ...]]  # and its consent record's (the subscriber's id left at 0)


@dataclass
class Ending:
    """The reading's last word: what the whole file held."""

    rows: int = 0
    bad: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first SHOWN, (line, what)
    first_bad: int | None = None  # the line of the first bad row
    ignored_columns: tuple[str, ...] = ()
    unreadable: list[str] = field(default_factory=list)  # the file stopped being readable here

    def row_problems(self) -> list[RowProblem]:
        return [RowProblem(line, what) for line, what in self.problems]


@dataclass(frozen=True)
class Statements:
    """The two INSERTs of a number new to the list, prepared for the writer's database."""

    subscriber: Prepared
    consent: Prepared
    subscriber_id_at: int  # where a consent record's values hold its subscriber's id

    @classmethod
    def of(cls, dialect: Dialect) -> Statements:
        consent = prepare(dialect, INSERT_CONSENT, _CONSENT_KEYS)
        subscriber = prepare(dialect, INSERT_SUBSCRIBER[dialect.name], _SUBSCRIBER_KEYS)
        return cls(subscriber, consent, consent.keys.index("subscriber_id"))

    def consent_of(self, values: tuple[Any, ...], subscriber_id: int) -> tuple[Any, ...]:
        at = self.subscriber_id_at
        return (*values[:at], subscriber_id, *values[at + 1 :])


def rows_of(checked: Checked) -> list[ImportRow]:
    """The batch's rows back as they were read."""
    handed: list[tuple[Any, ...]] = pickle.loads(checked.rows)  # made by _checked, in this run
    return [ImportRow(*row) for row in handed]


def read_ahead(
    lines: Iterable[Sequence[str]], plan: Plan, key: SuppressionKey, statements: Statements
) -> Iterator[Checked | Ending]:
    """The file's good rows a batch at a time, then what the whole file held."""
    ending = Ending()
    try:
        yield from _batches(_readable(lines), plan, key, statements, ending)
    except ImportProblem as problem:
        ending.unreadable = problem.problems
    yield ending


def _batches(
    iterator: Iterator[Sequence[str]], plan: Plan, key: SuppressionKey, statements: Statements, ending: Ending
) -> Iterator[Checked]:
    columns = plan_columns(next(iterator, ()), plan.program, plan.mapping, plan.preset, plan.status)
    ending.ignored_columns = columns.ignored
    program, now, country, skip_bad = plan.program, plan.now, plan.country, plan.skip_bad
    batch: list[ImportRow] = []
    for line, values in enumerate(iterator, start=2):
        if not any(values):
            continue
        ending.rows += 1
        try:
            row = read_row(columns, values, line, program, now, country)
        except RowProblem as problem:
            ending.bad += 1
            ending.first_bad = ending.first_bad or line
            if len(ending.problems) < SHOWN:
                ending.problems.append((problem.line, problem.message))
            continue
        if ending.bad and not skip_bad:
            continue  # checked, to name every bad row, but not written
        batch.append(row)
        if len(batch) >= BATCH:
            yield _checked(batch, plan, key, statements)
            batch = []
    if batch and not (ending.bad and not skip_bad):
        yield _checked(batch, plan, key, statements)


def _checked(batch: list[ImportRow], plan: Plan, key: SuppressionKey, statements: Statements) -> Checked:
    source, now, n = plan.source, plan.now, len(batch)
    return Checked(
        batch[-1].line,
        [row.phone for row in batch],
        [key.digest(row.phone) for row in batch],
        pickle.dumps([tuple(row) for row in batch], _PROTOCOL),  # a status or zone pickled once
        statements.subscriber.of_columns(new_subscribers(batch, source, now), n),
        statements.consent.of_columns(new_records(batch, source, now), n),
    )


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


def can_fork() -> bool:
    """Whether the reader may be a fork of this process: on Linux (macOS offers fork, but a fork
    of a process with threads may crash there; Python itself starts processes otherwise)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class Ahead:
    """`read_ahead` running beside the caller: in a forked process (`apart`), or on a thread.

    A fork inherits the file being read and the prepared statements as they are (nothing to
    pickle or re-import: it starts at once); it only reads, checks and hands batches over a pipe.
    A thread here takes them off the pipe as they come, up to AHEAD batches ahead of the writer,
    so that neither side waits for the other while both keep pace."""

    def __init__(
        self,
        lines: Iterable[Sequence[str]],
        plan: Plan,
        key: SuppressionKey,
        statements: Statements,
        apart: bool,
    ) -> None:
        self._queue: queue.Queue[Checked | Ending | BaseException] = queue.Queue(AHEAD)
        self._stopping = threading.Event()
        self._process: Any = None
        messages: Iterator[Checked | Ending]
        if apart:
            context = multiprocessing.get_context("fork")
            receiving, sending = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_serve,
                args=(sending, lines, plan, key, statements),
                name="smsbot-import-reader",
                daemon=True,
            )
            self._process.start()
            sending.close()  # the reader's end: held by the reader alone, so its exit is seen here
            messages = _received(receiving, self._process)
        else:
            messages = read_ahead(lines, plan, key, statements)
        self._thread = threading.Thread(target=self._fill, args=(messages,), name="smsbot-import-ahead")
        self._thread.start()

    async def next(self) -> Checked | Ending:
        message = await asyncio.to_thread(self._queue.get)
        if isinstance(message, BaseException):
            raise message
        return message

    def close(self) -> None:
        self._stopping.set()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
        self._thread.join()
        with contextlib.suppress(queue.Full):  # a `next` cancelled half-way leaves its thread waiting
            self._queue.put_nowait(RuntimeError("the import was stopped"))

    def _fill(self, messages: Iterator[Checked | Ending]) -> None:
        """The reader's messages into the queue as they come, up to its last word (or its failure,
        handed to the writer rather than lost on this thread)."""
        try:
            for message in messages:
                if not self._put(message) or isinstance(message, Ending):
                    return
        except Exception as exc:
            self._put(exc)

    def _put(self, message: Checked | Ending | BaseException) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(message, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False  # the writer stopped


def _received(receiving: Pipe, process: Any) -> Iterator[Checked | Ending]:
    with receiving:
        while True:
            try:
                message: Checked | Ending = receiving.recv()
            except EOFError:
                process.join(5)
                raise RuntimeError(f"the import's reader stopped (exit code {process.exitcode})") from None
            yield message
            if isinstance(message, Ending):
                return


def _serve(
    sending: Pipe, lines: Iterable[Sequence[str]], plan: Plan, key: SuppressionKey, statements: Statements
) -> None:
    """The reader process: the batches down the pipe until the end, or until the writer is gone."""
    signal.set_wakeup_fd(-1)  # the parent's event loop listens there, not this process
    gc.freeze()  # the parent's objects, inherited: walked by no collection here (a fifth of the time)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    try:
        for message in read_ahead(lines, plan, key, statements):
            sending.send(message)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the writer stopped: nothing more to hand over
    finally:
        sending.close()
