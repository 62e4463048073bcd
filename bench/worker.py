"""100,000 subscribers join at once: how fast and how late does the worker send their welcome steps?

    .venv/bin/python bench/worker.py [--subscribers 100000] [--rate 1000] [--capacity 20000]

The example program's welcome flow (greeting, contact card by MMS, first question) is due for every
subscriber at the same instant T0; one `smsbot worker` process sends it through the Twilio SDK to
the local stand-in for Twilio's Messages API (tests/fake_twilio.py, on this machine, in a thread of
this process), on the embedded defaults: a fresh SQLite file and the embedded Redis.

Printed:
- drain: messages handed over per second, against the configured per-number rate;
- lateness beyond the rate: a number may send message k no sooner than T0 + k/rate, so a step
  handed over at t is late by t - (T0 + k/rate); p50, p99 and the worst, in milliseconds;
- lateness beyond the due time (t - T0): mostly the queue the rate itself imposes;
- lost or doubled: every step accounted for, once, at the API and in the database.
Then a run at an unlimited rate (`--capacity` subscribers) shows the worker's own ceiling here.
BENCH_HISTOGRAM=1 also prints how many messages were handed over in each second after T0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import create_engine, func, insert, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.openloop import percentile  # noqa: E402
from bench.webhook import free_port, machine  # noqa: E402
from bot.store.schema import flow_runs, messages, subscribers  # noqa: E402
from tests.fake_twilio import FakeTwilio  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
TOKEN = "bench-auth-token-0123456789abcdef"
FROM_NUMBER = "+15005550006"
STEPS = 3  # the welcome flow up to its first question: greeting, card, question
UNLIMITED = 1_000_000.0  # messages a second: the worker's own ceiling shows
LEAD = 3.0  # seconds between setting the due time and reaching it


@dataclass
class Api:
    fake: FakeTwilio
    url: str
    loop: asyncio.AbstractEventLoop
    runner: web.AppRunner

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def start_api() -> Api:
    """The Messages API stand-in, on its own event loop in a thread."""
    fake = FakeTwilio(ACCOUNT_SID, TOKEN)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True, name="fake-twilio").start()
    port = free_port()

    async def start() -> web.AppRunner:
        runner = web.AppRunner(fake.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    return Api(fake, f"http://127.0.0.1:{port}", loop, runner)


def seed(database_url: str, count: int) -> None:
    """`count` subscribers who joined with JOIN, each with a welcome flow run at its first step."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    later = datetime(2099, 1, 1, tzinfo=UTC)  # not due until the bench says so
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            chunk = range(start, min(count, start + 10_000))
            conn.execute(
                insert(subscribers),
                [
                    {
                        "phone": f"+1415{n:07d}",
                        "status": "subscribed",
                        "language": "en",
                        "opt_in_source": "JOIN",
                        "opt_in_keyword": "JOIN",
                        "properties": {},
                        "created_at": now,
                        "updated_at": now,
                        "subscribed_at": now,
                    }
                    for n in chunk
                ],
            )
        ids = list(conn.scalars(select(subscribers.c.id).order_by(subscribers.c.id)))
        for start in range(0, len(ids), 10_000):
            conn.execute(
                insert(flow_runs),
                [
                    {
                        "subscriber_id": i,
                        "flow": "welcome",
                        "status": "active",
                        "step": 0,
                        "waiting": False,
                        "asked_again": False,
                        "due_at": later,
                        "started_by": "bench",
                        "started_at": now,
                        "updated_at": now,
                    }
                    for i in ids[start : start + 10_000]
                ],
            )
    engine.dispose()


def write_config(folder: Path, api_url: str, rate: float) -> Path:
    keywords = folder / "keywords"
    if not keywords.exists():
        shutil.copytree(ROOT / "keywords", keywords)
    config = folder / "config.yaml"
    config.write_text(
        f"""
keywords: {keywords}
server:
  public_url: https://sms.example.com
sending:
  from_number: "{FROM_NUMBER}"
  api_url: {api_url}
  rate: {rate}
  quiet_hours: {{start: "00:00", end: "23:59:59"}}
log_level: WARNING
"""
    )
    return config


def run_once(folder: Path, count: int, rate: float, env: dict[str, str], api: Api) -> dict[str, Any]:
    database_url = env["DATABASE_URL"]
    config = write_config(folder, api.url, rate)
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", "--config", str(config)], env=env, check=True
    )
    seed(database_url, count)
    engine = create_engine(database_url)
    log = (folder / f"worker-{count}.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker", "--config", str(config)], env=env, cwd=ROOT, stderr=log
    )
    try:
        time.sleep(3)  # the worker is up and idle
        assert worker.poll() is None, (folder / f"worker-{count}.log").read_text()
        # Everyone's welcome falls due at once, a little ahead as after a `wait` (the feeder looks
        # LOOKAHEAD seconds ahead; a due time set for "now" waits up to a second for its feed).
        t0 = datetime.now(UTC) + timedelta(seconds=LEAD)
        with engine.begin() as conn:
            conn.execute(update(flow_runs).values(due_at=t0))
        expected = count * STEPS
        deadline = time.monotonic() + max(120.0, 3 * expected / rate)
        while True:
            with engine.connect() as conn:
                done = conn.scalar(
                    select(func.count()).where(
                        messages.c.run_id.is_not(None), messages.c.handed_at.is_not(None)
                    )
                )
            if (done or 0) >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(1)  # anything sent twice would show now
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        log.close()
    with engine.connect() as conn:
        rows = conn.execute(
            select(messages.c.handed_at, messages.c.due_at, messages.c.sid, messages.c.status)
            .where(messages.c.run_id.is_not(None))
            .order_by(messages.c.handed_at)
        ).all()
        waiting = conn.scalar(select(func.count()).where(flow_runs.c.waiting.is_(True)))
    engine.dispose()
    accepted = api.fake.accepted()
    api.fake.created.clear()
    handed = [r for r in rows if r.handed_at is not None]
    copies = Counter((m["to"], m["body"], tuple(m["media_urls"])) for m in accepted)
    start, end = t0.timestamp(), max(r.handed_at.timestamp() for r in handed)
    beyond_rate = sorted(
        max(0.0, r.handed_at.timestamp() - (start + k / rate)) * 1000 for k, r in enumerate(handed)
    )
    if os.environ.get("BENCH_HISTOGRAM"):
        per_second = Counter(int(r.handed_at.timestamp() - start) for r in handed)
        print("handed per second since T0:", [per_second[i] for i in range(int(end - start) + 1)])
    beyond_due = sorted((r.handed_at - r.due_at).total_seconds() * 1000 for r in handed)
    return {
        "subscribers": count,
        "steps": expected,
        "rate_configured": rate,
        "drain_per_s": round(len(handed) / max(1e-9, end - start), 1),
        "drain_s": round(end - start, 1),
        "first_after_ms": round((handed[0].handed_at.timestamp() - start) * 1000, 1),
        "late_beyond_rate_ms": pct(beyond_rate),
        "late_beyond_due_ms": pct(beyond_due),
        "stored": len(rows),
        "handed_over": len(handed),
        "accepted_by_api": len(accepted),
        "doubled_at_api": sum(1 for n in copies.values() if n > 1),
        "sids_match": sorted(r.sid for r in handed) == sorted(m["sid"] for m in accepted),
        "lost": expected - len(copies),
        "runs_at_first_question": waiting,
    }


def pct(values: list[float]) -> dict[str, float]:
    if not values:
        return dict.fromkeys(("p50", "p99", "max"), float("nan"))
    return {
        "p50": round(percentile(values, 50), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
    }


def environment(folder: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "SMSBOT_DATA_DIR": str(folder / "var"),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SMSBOT_REDIS_PREFIX": f"bench-{os.getpid()}-{folder.name}:",
    }
    env["DATABASE_URL"] = f"sqlite:///{folder / 'var' / 'smsbot.db'}"  # a fresh database each run
    env.pop("REDIS_URL", None)  # the worker starts the embedded Redis under var/
    (folder / "var").mkdir(parents=True, exist_ok=True)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="messages per second per number")
    parser.add_argument(
        "--capacity", type=int, default=20_000, help="subscribers at an unlimited rate (0: skip)"
    )
    args = parser.parse_args()
    api = start_api()
    print(f"machine: {machine()}")
    results = []
    try:
        runs = [(args.subscribers, args.rate), (args.capacity, UNLIMITED)]
        runs = [(count, rate) for count, rate in runs if count > 0]
        for count, rate in runs:
            with tempfile.TemporaryDirectory(prefix="smsbot-bench-worker-") as tmp:
                figures = run_once(Path(tmp), count, rate, environment(Path(tmp)), api)
            results.append(figures)
            late = figures["late_beyond_rate_ms"]
            timing = (
                "no rate: the worker's ceiling here"
                if rate == UNLIMITED
                else f"late beyond the rate p50 {late['p50']} ms, p99 {late['p99']} ms, "
                f"max {late['max']} ms; "
                f"beyond the due time p99 {figures['late_beyond_due_ms']['p99'] / 1000:.1f} s"
            )
            print(
                f"{count:,} subscribers, {figures['steps']:,} steps, rate "
                f"{'unlimited' if rate == UNLIMITED else f'{rate:g}/s'}: "
                f"drained at {figures['drain_per_s']:,.0f} msg/s in {figures['drain_s']} s; {timing}; "
                f"lost {figures['lost']}, doubled {figures['doubled_at_api']}",
                flush=True,
            )
    finally:
        api.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
