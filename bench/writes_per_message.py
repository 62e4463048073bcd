"""Rows written and statements run per inbound message, in the webhook's own transactions.

    .venv/bin/python bench/writes_per_message.py [MESSAGES] [BATCH]

MESSAGES inbound messages (default 2,000) in batches of BATCH (default 20) through `apply_batch`,
each batch in a write transaction as the webhook's writer runs it, into a fresh database of the
shipped program: a mix as a live list sends them (per ten: two JOIN from new numbers, four
ordinary replies, one keyword, one HELP, one misspelt keyword, one STOP from a subscriber). Counts
every statement handed to the driver (an executemany once: one round trip) and the rows each table
gained, and prints both per message: the figures issue 29 asks to cut ("write less per message");
and the CPU this process spent a message (the writer's Python, and on SQLite the database's work).
SQLite, and PostgreSQL too with BENCH_POSTGRES_URL (a server's URL; a scratch database is made).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_postgresql  # noqa: E402
from bot.domain.inbound import InboundMessage  # noqa: E402
from bot.domain.outcome import Policy  # noqa: E402
from bot.pipeline.apply import apply_batch  # noqa: E402
from bot.program.loader import load_program  # noqa: E402
from bot.store import db  # noqa: E402
from bot.store.schema import metadata  # noqa: E402

TO = "+15555550100"
ORDINARY = ("Thanks, love the deals!", "what time do you open saturday?", "ok", "👍")


def messages(count: int) -> list[InboundMessage]:
    """The mix, ten at a time: joins from new numbers, then the rest from those who joined."""
    now = datetime.now(UTC)
    made: list[InboundMessage] = []
    for i in range(count):
        kind, person = i % 10, f"+1415{5_000_000 + (i // 10) * 2 + (i % 2):07d}"
        body = {0: "JOIN", 1: "JOIN", 6: "VIP", 7: "HELP", 8: "SALSE", 9: "STOP"}.get(
            kind, ORDINARY[kind % 4]
        )
        made.append(InboundMessage(f"SM{i:032d}", person, TO, body, now))
    return made


def counted(statements: Counter[str]) -> Any:
    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        word = statement.lstrip().split(None, 1)[0].upper()
        statements[word] += 1

    return before


async def measure(url: str, count: int, batch: int) -> tuple[Counter[str], Counter[str], float]:
    """Statements by their first word, rows gained by table, and this process's CPU a message."""
    engine = db.create_engine(url)
    await db.upgrade(engine)
    program = load_program(ROOT / "keywords", None).program
    transactions = db.WriteTransactions(engine, url, name="bench-writes")
    statements: Counter[str] = Counter()
    try:
        before = await _rows(engine)
        listener = counted(statements)
        event.listen(Engine, "before_cursor_execute", listener)
        try:
            all_of = messages(count)
            started = time.process_time()
            for start in range(0, count, batch):
                now = datetime.now(UTC)
                await transactions.run(apply_batch, all_of[start : start + batch], program, Policy(), now)
            cpu = (time.process_time() - started) / count
        finally:
            event.remove(Engine, "before_cursor_execute", listener)
        after = await _rows(engine)
    finally:
        transactions.close()
        await engine.dispose()
    return statements, Counter({table: after[table] - before[table] for table in after}), cpu


async def _rows(engine: Any) -> Counter[str]:
    async with engine.connect() as conn:
        return Counter(
            {
                table.name: await conn.scalar(select(func.count()).select_from(table))
                for table in metadata.sorted_tables
            }
        )


def show(
    name: str, count: int, batch: int, statements: Counter[str], gained: Counter[str], cpu: float
) -> None:
    print(f"{name}: {count:,} messages in batches of {batch}")
    print(f"  CPU a message in this process: {cpu * 1e6:.0f} µs")
    run = sum(statements.values())
    print(f"  statements per message: {run / count:.2f} (per batch of {batch}: {run * batch / count:.1f})")
    for word, n in statements.most_common():
        print(f"    {word:<8} {n / count:6.2f}")
    print(f"  rows written per message: {sum(gained.values()) / count:.2f}")
    for table, n in gained.most_common():
        if n:
            print(f"    {table:<20} {n / count:6.2f}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'smsbot.db'}"
        show("SQLite", count, batch, *asyncio.run(measure(url, count, batch)))
    server = os.environ.get("BENCH_POSTGRES_URL")
    if server:
        url = asyncio.run(fresh_postgresql(server, "smsbot_bench_writes"))
        show("PostgreSQL", count, batch, *asyncio.run(measure(url, count, batch)))


if __name__ == "__main__":
    main()
