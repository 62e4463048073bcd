"""Unique coupon codes for a 100,000-recipient campaign: what giving each recipient a code of their
own adds to queueing the campaign, against the same campaign without a code in the same run.

    .venv/bin/python bench/coupons.py [--recipients 100000] [--batch 1000]

On a fresh SQLite file (or DATABASE_URL): the subscribers seeded, the pool loaded from a list of
codes (`coupons.load`, as `smsbot coupons load` does), then each campaign's audience fixed and its
recipients queued in the worker's transactions (`queue_due`, `--batch` recipients each), every
message rendered, its link shortened and, for the second, its code given. Prints rows/s and the
cost of a code per recipient.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fresh import migrated  # noqa: E402
from bench.webhook import machine, phone  # noqa: E402
from bot.domain.outcome import Policy  # noqa: E402
from bot.domain.quiet_hours import QuietHours, Window  # noqa: E402
from bot.pipeline import coupons  # noqa: E402
from bot.pipeline.campaigns import queue_due, start  # noqa: E402
from bot.program.loader import load_program  # noqa: E402
from bot.store.schema import coupon_codes, messages, subscribers  # noqa: E402

PROGRAM = """
coupons:
  bench20: {}
campaigns:
  plain:
    segment: all_subscribers
    message: 'Acme: 20% off today {{ link("https://acme.example/sale") }} Reply STOP to opt out'
    smart_sending: false
  coded:
    segment: all_subscribers
    message: >-
      Acme: 20% off today with {{ coupon("bench20") }} {{ link("https://acme.example/sale") }}
      Reply STOP to opt out
    smart_sending: false
"""
OPEN = QuietHours(default=Window(clock(0, 0), clock(23, 59, 59, 999999)))


def seed(engine: Engine, count: int, now: datetime) -> None:
    with engine.begin() as conn:
        for first in range(0, count, 10_000):
            conn.execute(
                insert(subscribers),
                [
                    {
                        "phone": phone(n),
                        "status": "subscribed",
                        "language": "en",
                        "country": "US",
                        "properties": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(first, min(first + 10_000, count))
                ],
            )


def queue(engine: Engine, name: str, program_dir: Path, batch: int, now: datetime) -> float:
    """Seconds to fix the campaign's audience and queue every recipient."""
    program = load_program(program_dir).program
    policy = Policy(link_base="https://sms.example.com")
    began = time.perf_counter()
    with engine.begin() as conn:
        start(conn, program.campaigns[name], program, OPEN, now, "bench")
    while True:
        with engine.begin() as conn:
            before = conn.scalar(select(func.count()).select_from(messages))
            queue_due(conn, program, policy, OPEN, now, now, batch)
            after = conn.scalar(select(func.count()).select_from(messages))
        if after == before:
            return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
        engine = migrated(url)
        program_dir = Path(folder) / "keywords"
        program_dir.mkdir()
        for source in (ROOT / "keywords").iterdir():
            (program_dir / source.name).write_bytes(source.read_bytes())
        (program_dir / "bench.yaml").write_text(PROGRAM)
        now = datetime.now(UTC)
        seed(engine, args.recipients, now)
        codes = [f"BENCH-{n:08X}" for n in range(args.recipients)]
        began = time.perf_counter()
        with engine.begin() as conn:
            coupons.load(conn, "bench20", codes, now)
        loaded = time.perf_counter() - began
        plain = queue(engine, "plain", program_dir, args.batch, now)
        coded = queue(engine, "coded", program_dir, args.batch, now)
        with engine.connect() as conn:
            given = conn.scalar(select(func.count(func.distinct(coupon_codes.c.subscriber_id))))
        n = args.recipients
        print(machine())
        print(f"database: {url.split(':')[0]}; {n:,} recipients, {args.batch:,} a transaction")
        print(f"codes loaded: {n / loaded:,.0f} codes/s ({loaded:.2f} s)")
        print(f"campaign queued without a code: {n / plain:,.0f} recipients/s ({plain:.2f} s)")
        print(f"campaign queued with a code each: {n / coded:,.0f} recipients/s ({coded:.2f} s)")
        print(f"a code costs {(coded - plain) / n * 1e6:,.0f} µs a recipient; {given:,} people hold one")


if __name__ == "__main__":
    main()
