"""The Inbox's pages with many open conversations, on SQLite and PostgreSQL.

    .venv/bin/python bench/inbox.py [--subscribers 50000] [--open 10000] [--postgresql URL]

Builds, in a fresh SQLite file and (with --postgresql, or DATABASE_URL) a fresh PostgreSQL
database, SUBSCRIBERS subscribers with eight messages each (texts and answers, alternately, over
the last days), OPEN open conversations with unread texts and as many closed ones. Then serves the
real app on it (embedded Redis, or REDIS_URL), logs in, and times over HTTP the median and the
worst of five loads (after a first one) of: the Inbox's first page and a page far down, the poll
every open Inbox tab makes every few seconds, and one conversation's thread with its context.
The reference in the same run: the login page, which reads nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.dashboard import served, time_pages  # noqa: E402
from bench.databases import fresh_postgresql  # noqa: E402
from bench.webhook import machine  # noqa: E402
from bot.store import db  # noqa: E402
from tests.dashboard.test_auth import log_in  # noqa: E402

PASSWORD = "bench inbox password"
LOADS = 5


def numbers(dialect: str, count: str) -> str:
    """A row for each number 1..count: generate_series on PostgreSQL, a recursive CTE on SQLite."""
    if dialect == "postgresql":
        return f"(SELECT generate_series(1, {count}) AS i) AS n"
    counted = f"SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {count}"
    return f"(WITH RECURSIVE s(i) AS ({counted}) SELECT i FROM s) AS n"


def filling(dialect: str) -> list[str]:
    cat = "lpad(n.i::text, 7, '0')" if dialect == "postgresql" else "printf('%07d', n.i)"
    seconds = "make_interval(secs => {})" if dialect == "postgresql" else None

    def ago(expression: str) -> str:  # :now minus `expression` seconds
        if seconds:
            return f"CAST(:now AS timestamptz) - {seconds.format(expression)}"
        return f"datetime(:now, '-' || ({expression}) || ' seconds')"

    false = "false" if dialect == "postgresql" else "0"
    return [
        "INSERT INTO subscribers (phone, status, country, properties, created_at, updated_at, subscribed_at) "
        f"SELECT '+1415' || {cat}, CASE WHEN n.i % 20 = 0 THEN 'unsubscribed' ELSE 'subscribed' END, 'US', "
        f'\'{{"first_name": "Shopper"}}\', :now, :now, :now FROM {numbers(dialect, ":subscribers")}',
        "INSERT INTO messages (subscriber_id, direction, body, media_urls, status, created_at, updated_at, "
        "purpose, marketing, attempts) "
        "SELECT s.id, CASE WHEN n.i % 2 = 1 THEN 'inbound' ELSE 'outbound' END, "
        "'message ' || n.i || ' about an order', '[]', "
        "CASE WHEN n.i % 2 = 1 THEN 'received' ELSE 'delivered' END, "
        f"{ago('s.id * 7 + (8 - n.i) * 60')}, {ago('s.id * 7 + (8 - n.i) * 60')}, "
        f"CASE WHEN n.i % 2 = 1 THEN NULL ELSE 'person' END, {false}, 0 "
        f"FROM subscribers s CROSS JOIN {numbers(dialect, '8')}",
        "INSERT INTO conversations (subscriber_id, status, opened_at, last_message_at, unread, "
        "assigned_to) "
        f"SELECT id, 'open', {ago('id * 7 + 3600')}, {ago('id * 7')}, id % 4, "
        "CASE WHEN id % 3 = 0 THEN 'alex' END "
        "FROM subscribers WHERE id % :every = 1 AND id <= :open * :every",
        "INSERT INTO conversations (subscriber_id, status, opened_at, last_message_at, unread, "
        "closed_at, closed_by) "
        f"SELECT id, 'closed', {ago('id * 7 + 3600')}, {ago('id * 7')}, 0, {ago('id * 7')}, 'alex' "
        "FROM subscribers WHERE id % :every = 2 AND id <= :open * :every",
    ]


async def fill(url: str, subscribers: int, open_: int) -> float:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    started = time.perf_counter()
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            dialect = conn.dialect.name
            stamp: Any = now.replace(tzinfo=None).isoformat(sep=" ") if dialect == "sqlite" else now
            values = {"now": stamp, "subscribers": subscribers, "open": open_, "every": subscribers // open_}
            for statement in filling(dialect):
                await conn.execute(text(statement), values)
        if dialect == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def measure(url: str, folder: Path, open_: int) -> dict[str, tuple[float, float]]:
    client = await served(url, folder, PASSWORD)
    pages = [
        ("login (reads nothing)", "/dashboard/login"),
        ("inbox, first page", "/dashboard/inbox"),
        (f"inbox, page {open_ // 100}", f"/dashboard/inbox?page={open_ // 100}"),
        ("poll (every tab, every 4 s)", "/dashboard/inbox/changes"),
        ("a conversation's thread", "/dashboard/inbox/1"),
        ("its poll", "/dashboard/inbox/changes?conversation=1"),
    ]
    try:
        await log_in(client, PASSWORD)
        return await time_pages(client, pages)
    finally:
        await client.close()


def report(kind: str, built: float, found: dict[str, tuple[float, float]]) -> None:
    print(f"\n{kind} (built in {built:.0f} s)")
    print(f"{'page':<32} {'median':>9} {'worst':>9}")
    for name, (median, worst) in found.items():
        print(f"{name:<32} {median * 1000:>6.0f} ms {worst * 1000:>6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=50_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--postgresql", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    if args.subscribers < 2 * args.open:
        parser.error("--subscribers must be at least twice --open (as many closed as open)")
    print(
        f"machine: {machine()}; {args.subscribers:,} subscribers, {args.open:,} open conversations",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as name:
        folder = Path(name)
        sqlite = f"sqlite:///{folder / 'inbox.db'}"
        built = asyncio.run(fill(sqlite, args.subscribers, args.open))
        report("SQLite", built, asyncio.run(measure(sqlite, folder, args.open)))
        if args.postgresql:
            url = asyncio.run(fresh_postgresql(args.postgresql, "smsbot_bench_inbox"))
            built = asyncio.run(fill(url, args.subscribers, args.open))
            report("PostgreSQL", built, asyncio.run(measure(url, folder, args.open)))


if __name__ == "__main__":
    main()
