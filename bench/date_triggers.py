"""The daily birthday evaluation over 1,000,000 subscribers: the worker's look for whose birthday it
is (a date trigger), against a bare scan of the same column in the same run.

    .venv/bin/python bench/date_triggers.py [--subscribers 1000000]

On a fresh SQLite file (or DATABASE_URL): subscribers seeded with a birthday for two in three
("--MM-DD", as the welcome flow stores it), spread over the year; then `start_dated` as the worker
runs it (the first look of the day starts that day's runs; every later look, each 10 minutes,
starts nothing and costs the same scan); the reference reads the birthday of every subscriber with
the same SQL and does nothing else. The win-back and review request are not evaluated daily: an
order starts their run at once, due 60 or 7 days on, so their cost is the webhook's, measured
with the store events bench.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fresh import migrated  # noqa: E402
from bench.webhook import machine, phone  # noqa: E402
from bot.pipeline.date_triggers import start_dated  # noqa: E402
from bot.program.loader import load_program  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store import db  # noqa: E402
from bot.store.schema import flow_runs, subscribers  # noqa: E402


def seed(engine: Engine, count: int, now: datetime) -> None:
    pick = random.Random(7)
    with engine.begin() as conn:
        for first in range(0, count, 20_000):
            batch = []
            for n in range(first, min(first + 20_000, count)):
                day = pick.randrange(365)
                month, rest = divmod(day, 31)
                born = f"--{month % 12 + 1:02d}-{rest % 28 + 1:02d}" if n % 3 else None
                batch.append(
                    {
                        "phone": phone(n),
                        "status": "subscribed",
                        "language": "en",
                        "country": "US",
                        "properties": {"birthday": born} if born else {},
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(subscribers), batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
        engine = migrated(url)
        now = datetime.now(UTC)
        began = time.perf_counter()
        seed(engine, args.subscribers, now)
        seeded = time.perf_counter() - began
        flows = load_program(ROOT / "keywords").program.flows
        quiet = load_settings(env={"DATABASE_URL": url}).quiet_hours
        value = subscribers.c.properties["birthday"].as_string()
        tail = func.right(value, 5) if not db.is_sqlite(url) else func.substr(value, -5)
        began = time.perf_counter()
        with engine.connect() as conn:
            read = len(conn.execute(select(subscribers.c.id, tail)).all())
        scan = time.perf_counter() - began
        looks = []
        for _ in range(3):
            began = time.perf_counter()
            with engine.begin() as conn:
                started = start_dated(conn, flows, quiet, now)
            looks.append((time.perf_counter() - began, started))
        with engine.connect() as conn:
            runs = conn.scalar(select(func.count()).select_from(flow_runs))
        print(machine())
        print(f"database: {url.split(':')[0]}; {args.subscribers:,} subscribers (seeded in {seeded:.1f} s)")
        print(f"reference, every birthday read: {scan:.2f} s ({read:,} rows)")
        for n, (seconds, started) in enumerate(looks, start=1):
            print(f"look {n}: {seconds:.2f} s, {started:,} runs started")
        print(f"runs in the database: {runs:,}")


if __name__ == "__main__":
    main()
