"""The list's data on SQLite: importing a list, and erasing numbers on request.

    .venv/bin/python bench/list_data.py [ROWS] [ERASES]

Import: a CSV of ROWS rows (default 100,000: phone, status, consent time, source, keyword, first
name, language; nine in ten subscribed) through `import_into`, exactly as `smsbot subscribers
import` runs it (read and checked a batch ahead in a second process, a transaction per 5,000
rows, consent records and the dashboard's counts), into a fresh database with smsbot's own
settings. Then the same file again (a re-import: every row read and compared, nothing written).
Reference in the same run: the same number of bare rows (phone, status) put into a table without
indexes or triggers through sqlite3's executemany, what the file system and SQLite take at the
least. Three rounds, alternating with the reference: the median and the spread are printed.

Erase: ERASES (default 10,000) of the imported subscribers erased one by one, each in its own
transaction as `smsbot subscriber erase` does (without the Redis part).

With BENCH_POSTGRES_URL (a server's URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres), one
round of the import on PostgreSQL too, into a scratch database made there and dropped after.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROUNDS = 3
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import phone  # noqa: E402
from bot.pipeline.erasure import erase  # noqa: E402
from bot.pipeline.subscriber_import import Plan, import_into  # noqa: E402
from bot.pipeline.suppression import SuppressionKey  # noqa: E402
from bot.program.loader import load_program  # noqa: E402
from bot.store import db  # noqa: E402


def write_list(path: Path, rows: int) -> list[str]:
    phones = [phone(i) for i in range(rows)]
    with path.open("w") as out:
        out.write("phone,status,consented_at,source,keyword,first_name,language\n")
        for i, phone in enumerate(phones):
            status = "unsubscribed" if i % 10 == 0 else "subscribed"
            at = f"2025-{1 + i % 9:02d}-{10 + i % 18}T10:{i % 60:02d}:00Z"
            out.write(f"{phone},{status},{at},Keyword (JOIN),JOIN,Name{i},{'es' if i % 3 == 0 else 'en'}\n")
    return phones


def reference(path: Path, phones: list[str]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE bare (phone TEXT, status TEXT)")
    started = time.perf_counter()
    for start in range(0, len(phones), 5000):
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO bare VALUES (?, 'subscribed')", [(p,) for p in phones[start : start + 5000]]
        )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


async def imports(url: str, csv_path: Path, key: SuppressionKey) -> tuple[float, float]:
    import csv

    engine = db.create_engine(url)
    await db.upgrade(engine)
    program = load_program(ROOT / "keywords", None).program
    timings = []
    try:
        for _ in range(2):
            plan = Plan(name=csv_path.name, program=program, country="US", now=datetime.now(UTC))
            started = time.perf_counter()
            with csv_path.open(newline="") as data:
                report = await import_into(engine, url, key, csv.reader(data), plan)
            timings.append(time.perf_counter() - started)
            assert report.written and not report.bad, report.as_dict()
    finally:
        await engine.dispose()
    return timings[0], timings[1]


async def postgres_imports(server: str, csv_path: Path, key: SuppressionKey) -> tuple[float, float]:
    """`imports` on PostgreSQL, into a scratch database made on `server` and dropped after."""
    import asyncpg
    from sqlalchemy import make_url

    admin = make_url(server).set(drivername="postgresql").render_as_string(False)
    scratch = make_url(server).set(database="smsbot_bench_import").render_as_string(False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute("DROP DATABASE IF EXISTS smsbot_bench_import")
        await conn.execute("CREATE DATABASE smsbot_bench_import")
        return await imports(scratch, csv_path, key)
    finally:
        await conn.execute("DROP DATABASE IF EXISTS smsbot_bench_import")
        await conn.close()


async def erases(url: str, phones: list[str], key: SuppressionKey) -> float:
    engine = db.create_engine(url)
    transactions = db.WriteTransactions(engine, url, name="bench-erase")
    try:
        started = time.perf_counter()
        for phone in phones:
            await transactions.run(erase, key, phone, datetime.now(UTC))
        return time.perf_counter() - started
    finally:
        transactions.close()
        await engine.dispose()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    erased = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    key = SuppressionKey(b"bench key: not a secret, not used elsewhere")
    firsts, agains, bares = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        phones = write_list(folder / "list.csv", rows)
        for round_ in range(ROUNDS):  # each into a fresh database, the reference between them
            url = f"sqlite:///{folder / f'smsbot{round_}.db'}"
            first, again = asyncio.run(imports(url, folder / "list.csv", key))
            firsts.append(rows / first)
            agains.append(rows / again)
            bares.append(rows / reference(folder / f"bare{round_}.db", phones))
        took = asyncio.run(erases(url, phones[:erased], key))
        server = os.environ.get("BENCH_POSTGRES_URL")
        on_postgres = asyncio.run(postgres_imports(server, folder / "list.csv", key)) if server else None
    print(f"{ROUNDS} rounds of {rows:,} rows: the median, and the slowest and fastest round")
    print(f"import (new):                      {_spread(firsts)} rows/s")
    print(f"import again (nothing changes):    {_spread(agains)} rows/s")
    print(f"reference, bare rows, executemany: {_spread(bares)} rows/s")
    print(f"erase, {erased:,} subscribers one by one: {erased / took:>6,.0f} /s  ({took:.2f} s)")
    if on_postgres:
        first, again = on_postgres
        print(f"PostgreSQL, one round: import (new) {rows / first:,.0f} rows/s, again {rows / again:,.0f}")


def _spread(rates: list[float]) -> str:
    return f"{statistics.median(rates):>9,.0f} ({min(rates):,.0f} to {max(rates):,.0f})"


if __name__ == "__main__":
    main()
