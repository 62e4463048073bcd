"""Segments on a big list: counting each shipped segment, and exporting one as CSV.

    .venv/bin/python bench/segments.py [--subscribers 1000000] [--postgresql URL]

Builds a list of `--subscribers` subscribers with realistic properties (names, birthdays, VIP,
interests, the contact card), 10 keyword events and 20 messages each on average, in a fresh SQLite
file (the embedded default) and, with --postgresql (or DATABASE_URL), in a fresh PostgreSQL
database beside it; then, on each:
- counts every segment of the shipped program (members and subscribed; the best of three runs);
- exports the biggest segment as CSV through the same code as `smsbot segment NAME --export` and
  `GET /api/segments/{name}/members.csv`, printing rows per second and its peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_postgresql  # noqa: E402
from bench.webhook import machine  # noqa: E402
from bot.pipeline.segment_members import csv_header, csv_page  # noqa: E402
from bot.program.loader import load_program  # noqa: E402
from bot.store import db  # noqa: E402
from bot.store.rows import keyword_texted  # noqa: E402
from bot.store.segments import count  # noqa: E402

NOW = datetime.now(UTC)
KEYWORDS = ["JOIN"] * 5 + ["SHOES", "UNETE", "VIP", "EVENTS", "SALES"]
AREAS = ["415", "212", "512", "305", "604", "416", "514", "206", "617", "773"]
NAMES = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "June"]
INTERESTS = ["shoes", "events", "sales", "new"]
CHUNK = 50_000


def subscriber(n: int, rng: random.Random) -> tuple[Any, ...]:
    abroad = rng.random() < 0.05
    phone = f"+44770{n:07d}" if abroad else f"+1{AREAS[n % len(AREAS)]}{n:07d}"
    country = "GB" if abroad else ("CA" if phone[2:5] in ("604", "416", "514") else "US")
    roll = rng.random()
    status = "subscribed" if roll < 0.85 else "unsubscribed" if roll < 0.95 else "pending"
    language = rng.choice([None, None, "en", "en", "en", "en", "es", "es", "fr", None])
    keyword = rng.choice(KEYWORDS)
    properties: dict[str, Any] = {}
    if rng.random() < 0.6:
        properties["first_name"] = rng.choice(NAMES)
    if rng.random() < 0.4:
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        properties["birthday"] = (
            f"--{month:02d}-{day:02d}"
            if rng.random() < 0.5
            else f"19{rng.randint(50, 99)}-{month:02d}-{day:02d}"
        )
    if rng.random() < 0.05:
        properties["vip"] = True
    if rng.random() < 0.5:
        properties["interests"] = rng.sample(INTERESTS, rng.randint(1, 3))
    if rng.random() < 0.3:
        properties["vcard_received"] = True
    joined = NOW - timedelta(days=rng.random() * 730)
    return (
        n + 1,
        phone,
        status,
        language,
        keyword,
        keyword,
        country,
        json.dumps(properties),
        joined,
        joined,
        joined if status == "subscribed" else None,
    )


def keyword_events(n: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for _ in range(rng.randint(0, 20)):
        keyword = rng.choice(KEYWORDS)
        yield (
            n + 1,
            keyword,
            keyword.lower(),
            f"SM{n:010d}{rng.getrandbits(32):08x}",
            NOW - timedelta(days=rng.random() * 730),
        )


def messages(n: int, rng: random.Random, first_id: int) -> Iterator[tuple[Any, ...]]:
    for k in range(rng.randint(0, 40)):
        at = NOW - timedelta(days=rng.random() * 730)
        inbound = k % 2 == 0
        yield (
            first_id + k,
            n + 1,
            "inbound" if inbound else "outbound",
            "hi",
            "[]",
            f"SM{n:010d}{k:04d}",
            None if inbound else f"r{n}.{k}",
            "received" if inbound else "delivered",
            at,
            at,
            None if inbound else True,
            None if inbound else at,
        )


SUBSCRIBER_COLUMNS = (
    "id, phone, status, language, opt_in_source, opt_in_keyword, country, properties, created_at, "
    "updated_at, subscribed_at, engaged_at, keywords_texted"
)
KEYWORD_COLUMNS = "subscriber_id, keyword, text, message_sid, at"
MESSAGE_COLUMNS = (
    "id, subscriber_id, direction, body, media_urls, sid, ref, status, created_at, updated_at, "
    "marketing, handed_at"
)


def batches(
    total: int,
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """The same list every time (seeded), a chunk of subscribers at a time with their events."""
    rng = random.Random(7)
    next_message = 1
    for start in range(0, total, CHUNK):
        people: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        sent: list[tuple[Any, ...]] = []
        for n in range(start, min(total, start + CHUNK)):
            person = subscriber(n, rng)
            texted = list(keyword_events(n, rng))
            theirs = list(messages(n, rng, next_message))
            next_message += len(theirs)
            people.append((*person, *summaries(texted, theirs)))
            events.extend(texted)
            sent.extend(theirs)
        yield people, events, sent


def summaries(texted: list[tuple[Any, ...]], theirs: list[tuple[Any, ...]]) -> tuple[Any, str | None]:
    """engaged_at and keywords_texted, as the pipeline keeps them while the events arrive."""
    keywords: dict[str, Any] = {}
    for _, keyword, _, _, at in sorted(texted, key=lambda event: event[4]):
        keywords = keyword_texted(keywords, keyword, at)
    inbound = [message[8] for message in theirs if message[2] == "inbound"]
    return max(inbound, default=None), json.dumps(keywords) if keywords else None


def _sqlite_value(value: Any) -> Any:
    return (
        value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        if isinstance(value, datetime)
        else value
    )


def fill_sqlite(path: Path, total: int) -> dict[str, int]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    counts = {"keyword events": 0, "messages": 0}
    for people, events, sent in batches(total):
        for table, columns, rows in (
            ("subscribers", SUBSCRIBER_COLUMNS, people),
            ("keyword_events", KEYWORD_COLUMNS, events),
            ("messages", MESSAGE_COLUMNS, sent),
        ):
            marks = ", ".join("?" * len(columns.split(",")))
            conn.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                ([_sqlite_value(v) for v in row] for row in rows),
            )
        conn.commit()
        counts["keyword events"] += len(events)
        counts["messages"] += len(sent)
    conn.execute("ANALYZE")
    conn.close()
    return counts


async def fill_postgresql(url: str, total: int) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    counts = {"keyword events": 0, "messages": 0}
    try:
        for people, events, sent in batches(total):
            await conn.copy_records_to_table(
                "subscribers", records=people, columns=[c.strip() for c in SUBSCRIBER_COLUMNS.split(",")]
            )
            await conn.copy_records_to_table(
                "keyword_events", records=events, columns=[c.strip() for c in KEYWORD_COLUMNS.split(",")]
            )
            await conn.copy_records_to_table(
                "messages", records=sent, columns=[c.strip() for c in MESSAGE_COLUMNS.split(",")]
            )
            counts["keyword events"] += len(events)
            counts["messages"] += len(sent)
        await conn.execute("SELECT setval('subscribers_id_seq', (SELECT max(id) FROM subscribers))")
        await conn.execute("SELECT setval('messages_id_seq', (SELECT max(id) FROM messages))")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return counts


async def measure(url: str) -> tuple[dict[str, tuple[float, int, int]], tuple[str, int, float, float]]:
    program = load_program(ROOT / "keywords").program
    engine = db.create_engine(url)
    timings: dict[str, tuple[float, int, int]] = {}
    try:
        async with engine.connect() as conn:
            for name, segment in program.segments.items():
                best = float("inf")
                for _ in range(3):
                    started = time.perf_counter()
                    members, subscribed = await conn.run_sync(
                        count, segment, program.segments, NOW, program.info.zone
                    )
                    best = min(best, time.perf_counter() - started)
                timings[name] = (best, members, subscribed)
            biggest = max(timings, key=lambda n: timings[n][1])
            exported = await conn.run_sync(_export, program, biggest)
    finally:
        await engine.dispose()
    return timings, (biggest, *exported)


def _export(conn: Any, program: Any, name: str) -> tuple[int, float, float]:
    """(rows, seconds, peak MiB allocated while exporting) for the whole segment to a CSV file:
    timed once, then again under tracemalloc for the memory (it slows allocation down)."""
    rows, took = _export_once(conn, program, name)
    tracemalloc.start()
    _export_once(conn, program, name)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return rows, took, peak


def _export_once(conn: Any, program: Any, name: str) -> tuple[int, float]:
    rows = 0
    started = time.perf_counter()
    after: int | None = 0
    with tempfile.TemporaryFile("w") as out:
        out.write(csv_header(program))
        while after is not None:
            text, after = csv_page(conn, program, name, NOW, after)
            rows += text.count("\n")
            out.write(text)
    return rows, time.perf_counter() - started


async def prepare(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()


def report(kind: str, filled: dict[str, int], took: float, found: Any) -> None:
    timings, (biggest, rows, seconds, grew) = found
    print(
        f"\n{kind}: built in {took:.0f} s "
        f"({filled['keyword events']:,} keyword events, {filled['messages']:,} messages)"
    )
    print(f"{'segment':<24} {'members':>10} {'subscribed':>11} {'count (best of 3)':>18}")
    for name, (best, members, subscribed) in timings.items():
        print(f"{name:<24} {members:>10,} {subscribed:>11,} {best * 1000:>15.0f} ms")
    print(
        f"export of {biggest}: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s; "
        f"peak memory {grew:.1f} MiB (whatever the segment's size: a page at a time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--postgresql", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.subscribers:,} subscribers")
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as folder:
        path = Path(folder) / "segments.db"
        url = f"sqlite:///{path}"
        asyncio.run(prepare(url))
        started = time.perf_counter()
        filled = fill_sqlite(path, args.subscribers)
        report("SQLite", filled, time.perf_counter() - started, asyncio.run(measure(url)))
    if args.postgresql:
        url = asyncio.run(fresh_postgresql(args.postgresql, "smsbot_bench_segments"))
        asyncio.run(prepare(url))
        started = time.perf_counter()
        filled = asyncio.run(
            fill_postgresql(url.replace("postgresql://", "postgresql://", 1), args.subscribers)
        )
        report("PostgreSQL", filled, time.perf_counter() - started, asyncio.run(measure(url)))


if __name__ == "__main__":
    main()
