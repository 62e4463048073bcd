"""A list longer than a batch, imported on the real database with its reader in a second process
(and on a thread, where the system cannot fork): a bad row stops the writing at its batch, every
bad row is named, the mended file finishes the import; a number twice in a file is decided against
its earlier row, in one batch or across two, and is stored to the byte as a number seen once."""

import hmac
import io
import multiprocessing
import threading
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.list_import import ImportProblem, Plan
from bot.pipeline.import_ahead import BATCH, Ahead, Checked, Statements, can_fork
from bot.pipeline.subscriber_import import Report, import_into, read_csv, run
from bot.pipeline.suppression import SuppressionKey
from bot.program.loader import load_program
from bot.store import activity, db
from bot.store.schema import activity_deltas, consent_events, hourly_counts, subscribers, total_counts
from tests.conftest import KEYWORDS

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
KEY = SuppressionKey(b"a test key, sixteen characters or more")
HEADER = "phone,status,consented_at,first_name\n"
ROWS = 2 * BATCH + 2_000
READERS = pytest.mark.parametrize("apart", [True, False], ids=["reader-process", "reader-thread"])


def phone(i: int) -> str:
    return f"+1415{2_000_000 + i:07d}"


def line(i: int, status: str = "", at: str = "") -> str:
    status = status or ("unsubscribed" if i % 10 == 0 else "subscribed")
    return f"{phone(i)},{status},{at or f'2025-03-{1 + i % 28:02d}T10:{i % 60:02d}:00Z'},Name{i}\n"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database_url)
    yield engine
    await engine.dispose()


async def import_lines(
    engine: AsyncEngine, database_url: str, lines: list[str], apart: bool, skip_bad: bool = False
) -> Report:
    plan = Plan(
        name="big.csv", program=load_program(KEYWORDS).program, country="US", now=NOW, skip_bad=skip_bad
    )
    rows = read_csv(io.StringIO(HEADER + "".join(lines), newline=""))
    return await import_into(engine, database_url, KEY, rows, plan, apart=apart)


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        people = await conn.scalar(select(func.count()).select_from(subscribers))
        records = await conn.scalar(select(func.count()).select_from(consent_events))
    return people or 0, records or 0


def test_this_system_reads_ahead_in_a_second_process() -> None:
    assert can_fork()  # Linux: the reader-process cases below are the path `smsbot` takes


@READERS
async def test_a_bad_row_stops_the_writing_at_its_batch_and_the_mended_file_finishes_it(
    engine: AsyncEngine, database_url: str, apart: bool
) -> None:
    lines = [line(i) for i in range(ROWS)]
    lines[2 * BATCH + 600] = "555,subscribed,2025-01-01T00:00:00Z,Bad\n"  # in the third batch
    lines[2 * BATCH + 1_900] = f"{phone(1)},maybe,,\n"
    report = await import_lines(engine, database_url, lines, apart)

    first_bad = 2 * BATCH + 602  # the header is line 1
    assert (report.written, report.stopped_at, report.through_line) == (False, first_bad, 2 * BATCH + 1)
    assert [problem.line for problem in report.problems] == [first_bad, 2 * BATCH + 1_902]
    assert (report.rows, report.bad, report.effects["created"]) == (ROWS, 2, 2 * BATCH)
    assert await counts(engine) == (2 * BATCH, 2 * BATCH)  # two whole batches, nothing of the third

    lines[2 * BATCH + 600], lines[2 * BATCH + 1_900] = line(2 * BATCH + 600), line(2 * BATCH + 1_900)
    again = await import_lines(engine, database_url, lines, apart)
    assert again.written and (again.effects["created"], again.effects["unchanged"]) == (2_000, 2 * BATCH)
    assert await counts(engine) == (ROWS, ROWS)


async def test_the_progress_counts_the_rows_written_batch_by_batch(
    engine: AsyncEngine, database_url: str
) -> None:
    plan = Plan(name="big.csv", program=load_program(KEYWORDS).program, country="US", now=NOW)
    rows = read_csv(io.StringIO(HEADER + "".join(line(i) for i in range(ROWS)), newline=""))
    advanced: list[int] = []
    await import_into(engine, database_url, KEY, rows, plan, advanced.append)
    assert advanced == [BATCH, BATCH, ROWS - 2 * BATCH]


@READERS
async def test_skipping_bad_rows_writes_every_good_one_of_every_batch(
    engine: AsyncEngine, database_url: str, apart: bool
) -> None:
    lines = [line(i) for i in range(ROWS)]
    lines[10] = "not a number,subscribed,,\n"
    report = await import_lines(engine, database_url, lines, apart, skip_bad=True)
    assert (report.written, report.stopped_at, report.bad) == (True, None, 1)
    assert await counts(engine) == (ROWS - 1, ROWS - 1)


async def test_a_file_that_stops_being_csv_says_which_lines_were_imported_before_it(
    engine: AsyncEngine, database_url: str
) -> None:
    lines = [line(i) for i in range(ROWS)]
    lines[BATCH + 10] = f'{phone(BATCH + 10)},subscribed,,"{"x" * 200_000}"\n'  # past csv's cell limit
    with pytest.raises(ImportProblem) as refused:
        await import_lines(engine, database_url, lines, apart=True)
    assert "not CSV as expected" in refused.value.problems[0]
    assert refused.value.problems[1].startswith(f"lines 2-{BATCH + 1} were imported before it")
    assert await counts(engine) == (BATCH, BATCH)


async def test_a_number_twice_is_decided_against_its_earlier_row_in_one_batch_or_across_two(
    engine: AsyncEngine, database_url: str
) -> None:
    lines = [line(i, "subscribed", "2025-03-01T10:00:00Z") for i in range(BATCH + 1_000)]
    lines[20] = line(10, "unsubscribed", "2025-04-01T10:00:00Z")  # the same batch, newer: it stands
    lines[BATCH + 500] = line(100, "unsubscribed", "2025-04-01T10:00:00Z")  # the next batch
    lines[BATCH + 600] = line(200, "subscribed", "2025-03-01T10:00:00Z")  # the same again: nothing
    report = await import_lines(engine, database_url, lines, apart=True)
    assert report.written
    assert (report.effects["created"], report.effects["changed"], report.effects["unchanged"]) == (
        BATCH + 1_000 - 3,
        2,
        1,
    )
    async with engine.connect() as conn:
        status = dict((await conn.execute(select(subscribers.c.phone, subscribers.c.status))).all())
        records = await conn.scalar(select(func.count()).select_from(consent_events))
    assert (status[phone(10)], status[phone(100)], status[phone(200)]) == (
        "unsubscribed",
        "unsubscribed",
        "subscribed",
    )
    assert records == BATCH + 1_000 - 3 + 2  # one a number, and one for each change


async def test_a_number_decided_here_is_stored_to_the_byte_as_one_written_as_read(
    engine: AsyncEngine, database_url: str
) -> None:
    twice = [line(1, "subscribed", "2025-03-01T10:00:00Z")] * 2  # decided against its first row
    once = [line(2, "subscribed", "2025-03-01T10:00:00Z")]  # written as the reader made it
    assert (await import_lines(engine, database_url, twice + once, apart=True)).written
    columns = (
        "status, language, opt_in_source, opt_in_keyword, CAST(properties AS TEXT), created_at, "
        "subscribed_at, country"
    )
    async with engine.connect() as conn:
        stored = [
            (await conn.execute(text(f"SELECT {columns} FROM subscribers WHERE phone = :p"), {"p": p})).one()
            for p in (phone(1), phone(2))
        ]
        kept = [
            (
                await conn.execute(
                    text(
                        "SELECT action, from_status, to_status, source, at FROM consent_events "
                        "JOIN subscribers ON subscribers.id = subscriber_id WHERE phone = :p"
                    ),
                    {"p": p},
                )
            ).one()
            for p in (phone(1), phone(2))
        ]
    assert [str(v).replace("Name1", "Name2") for v in stored[0]] == [str(v) for v in stored[1]]
    assert kept[0] == kept[1]


async def test_the_dashboards_counts_take_an_import_a_batch_at_a_time_and_agree_with_its_rows(
    engine: AsyncEngine, database_url: str
) -> None:
    lines = [line(i) for i in range(BATCH + 1_000)]  # one in ten not subscribed
    lines.append(line(1, "unsubscribed", "2025-05-01T10:00:00Z"))  # a subscriber leaves, later
    assert (await import_lines(engine, database_url, lines, apart=True)).written
    async with engine.connect() as conn:
        counted = await conn.run_sync(activity.totals, ("joined", "joined_keyword", "left"))
        deltas = await conn.scalar(select(func.count()).select_from(activity_deltas))
        joined = await conn.scalar(
            select(func.count()).select_from(consent_events).where(consent_events.c.to_status == "subscribed")
        )
    assert counted["joined"] == {"import:big.csv": (joined, 0)} and joined == BATCH + 1_000 - 600
    assert counted["joined_keyword"] == {"": (joined, 0)}
    assert counted["left"] == {"": (1, 0)}
    assert deltas is not None and deltas < 300  # a delta per hour and label in each batch, not a row each

    async with engine.begin() as conn:  # the history counted again from the rows gives the same
        await conn.execute(delete(activity_deltas))
        await conn.execute(delete(hourly_counts))
        await conn.execute(delete(total_counts))
        await conn.run_sync(activity.fill)
        again = await conn.run_sync(activity.totals, ("joined", "joined_keyword", "left"))
    assert again == counted


def test_a_suppressed_number_is_kept_as_its_hmac_sha256_under_the_server_key() -> None:
    """The digest an erasure stored years ago must still match the number in a list today."""
    for number in ("+14155550123", "+447700900123", "+5215512345678"):
        assert KEY.digest(number) == hmac.new(KEY.secret, number.encode(), "sha256").hexdigest()
    assert KEY.digest("+14155550123") != KEY.digest("+14155550124")


@READERS
async def test_a_writer_that_fails_half_way_stops_the_reader_and_leaves_nothing_running(apart: bool) -> None:
    plan = Plan(name="big.csv", program=load_program(KEYWORDS).program, country="US", now=NOW)
    lines = read_csv(io.StringIO(HEADER + "".join(line(i) for i in range(8 * BATCH)), newline=""))
    ahead = Ahead(lines, plan, KEY, Statements.of(pysqlite.dialect()), apart=apart)
    written: list[int] = []

    async def write_batch(batch: Checked) -> Counter[str]:
        if written:
            raise OSError("the disk is full")
        written.append(batch.last_line)
        return Counter()

    with pytest.raises(OSError, match="disk is full"):
        await run(ahead, False, write_batch)
    assert written == [BATCH + 1]
    assert not [p for p in multiprocessing.active_children() if p.name == "smsbot-import-reader"]
    assert not [t for t in threading.enumerate() if t.name == "smsbot-import-ahead"]
