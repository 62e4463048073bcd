"""A 100,000-recipient campaign: its audience fixed, drained at the rate, a worker killed mid-send,
and the tracked links it sent followed.

    .venv/bin/python bench/campaign.py [--recipients 100000] [--rate 1000] [--kill-recipients 20000]

On the embedded defaults (a fresh SQLite file, the embedded Redis) with one `smsbot worker` sending
through the Twilio SDK to the local stand-in for Twilio's Messages API (tests/fake_twilio.py):
- audience fixed: the time `start` takes to write every recipient (the transaction of `smsbot
  campaign send`);
- drain: messages handed over per second against the configured rate, and lateness beyond the
  rate: message k may go no sooner than T0 + k/rate, so one handed over at t is late by
  t - (T0 + k/rate); p50, p99, worst. T0 is the commit of the audience (the drain cannot begin
  before it; fixing the audience is the figure above), and the same percentiles are printed from
  the moment the command began as well;
- killed: a second campaign to `--kill-recipients`, its worker SIGKILLed at 40% and another started:
  lost and doubled at the API;
- redirects: `smsbot serve` answering GET /l/{code} for the codes the campaign sent (wrk, 64
  connections, 8 s), beside bare aiohttp answering a constant 302 in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import PY, Process, free_port, machine, phone  # noqa: E402
from bench.worker import Api, environment, pct, start_api, write_config  # noqa: E402
from bot.pipeline.campaigns import start  # noqa: E402
from bot.program.loader import load_program  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store import db  # noqa: E402
from bot.store.schema import links, messages, subscribers  # noqa: E402

CAMPAIGN = """
campaigns:
  bench_sale:
    segment: all_subscribers
    message: >-
      Acme: {{ first_name | default("friend") }}, 20% off today {{ link("https://acme.example/sale") }}
      Reply STOP to opt out
    smart_sending: false
"""
KILL_AT = 0.4


def seed(database_url: str, count: int, first: int = 0) -> None:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for chunk in range(first, first + count, 10_000):
            conn.execute(
                insert(subscribers),
                [
                    {
                        "phone": phone(n),  # 415-200-0000 on: numbers placed in a zone
                        "status": "subscribed",
                        "language": "en",
                        "country": "US",
                        "opt_in_source": "JOIN",
                        "opt_in_keyword": "JOIN",
                        "properties": {"first_name": "Ana"} if n % 2 else {},
                        "created_at": now,
                        "updated_at": now,
                        "subscribed_at": now,
                    }
                    for n in range(chunk, min(first + count, chunk + 10_000))
                ],
            )
    engine.dispose()


def fix_audience(config: Path, env: dict[str, str]) -> tuple[float, int, datetime]:
    """Start the campaign in this process, timed: (seconds, recipients, when the command began)."""
    settings = load_settings(config, env=env)
    program = load_program(settings.keywords_dir, settings.short_link_base).program

    async def run() -> tuple[float, int, datetime]:
        engine = db.create_engine(settings.database_url)
        writes = db.WriteTransactions(engine, settings.database_url, name="bench-db")
        try:
            now = datetime.now(UTC)
            began = time.perf_counter()
            started = await writes.run(
                start,
                program.campaigns["bench_sale"],
                program,
                settings.quiet_hours,
                now,
                "bench",
            )
            return time.perf_counter() - began, started.audience, now
        finally:
            writes.close()
            await engine.dispose()

    return asyncio.run(run())


def handed(database_url: str) -> list[Any]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(messages.c.handed_at)
            .where(messages.c.campaign_id.is_not(None), messages.c.handed_at.is_not(None))
            .order_by(messages.c.handed_at)
        ).all()
    engine.dispose()
    return [r.handed_at for r in rows]


def worker(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PY, "-m", "bot", "worker", "--config", str(config)], env=env, cwd=ROOT, stderr=log.open("ab")
    )


def handed_count(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = conn.execute(
            select(func.count()).where(messages.c.campaign_id.is_not(None), messages.c.handed_at.is_not(None))
        ).scalar_one()
    engine.dispose()
    return int(found)


def wait_for(
    database_url: str, api: Api, count: int, limit: float, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Until `count` campaign messages are handed over: first the stand-in's own count (asking the
    database twice a second during the send took CPU from the workers measured), then the rows."""
    deadline = time.monotonic() + limit
    while len(api.fake.created) < count and time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("the worker died")
        time.sleep(0.1)
    while handed_count(database_url) < count and time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("the worker died")
        time.sleep(0.5)


def drain(folder: Path, count: int, rate: float, api: Api, workers: int = 1) -> dict[str, Any]:
    env = environment(folder)
    config = write_config(folder, api.url, rate)
    (folder / "keywords" / "bench_campaign.yaml").write_text(CAMPAIGN)
    subprocess.run([PY, "-m", "bot", "db", "upgrade", "--config", str(config)], env=env, check=True)
    seed(env["DATABASE_URL"], count)
    procs = [worker(config, env, folder / "worker.log") for _ in range(workers)]
    try:
        time.sleep(3)  # the workers are up and idle
        took, audience, t0 = fix_audience(config, env)
        wait_for(env["DATABASE_URL"], api, audience, max(120.0, 3 * audience / rate), procs[0])
        time.sleep(1)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(60)
    times = handed(env["DATABASE_URL"])
    start_at = t0.timestamp() + took  # the audience committed: the drain may begin
    accepted = Counter(m["to"] for m in api.fake.accepted())
    api.fake.created.clear()
    end = times[-1].timestamp() if times else start_at
    return {
        "recipients": audience,
        "audience_fixed_s": round(took, 2),
        "drain_per_s": round(len(times) / max(1e-9, end - start_at), 1),
        "late_beyond_rate_ms": pct(_late(times, start_at, rate)),
        "late_from_command_ms": pct(_late(times, t0.timestamp(), rate)),
        "first_after_ms": round((times[0].timestamp() - start_at) * 1000) if times else None,
        "late_by_tenth_ms": [round(late_k) for late_k in _by_tenth(times, start_at, rate)],
        "lost": audience - len(accepted),
        "doubled": sum(1 for n in accepted.values() if n > 1),
        "env": env,
        "config": config,
    }


def _late(times: list[Any], start_at: float, rate: float) -> list[float]:
    return sorted(max(0.0, t.timestamp() - (start_at + k / rate)) * 1000 for k, t in enumerate(times))


def _by_tenth(times: list[Any], start_at: float, rate: float) -> list[float]:
    """Lateness beyond the rate of the last message of each tenth of the send: is it a constant
    delay from the start, or does the send fall behind as it goes?"""
    ends = [len(times) * n // 10 - 1 for n in range(1, 11)] if len(times) >= 10 else []
    return [max(0.0, times[k].timestamp() - (start_at + k / rate)) * 1000 for k in ends]


def killed(folder: Path, count: int, rate: float, api: Api) -> dict[str, Any]:
    env = environment(folder)
    config = write_config(folder, api.url, rate)
    (folder / "keywords" / "bench_campaign.yaml").write_text(CAMPAIGN)
    # A short lease: a dead worker's hand-overs are looked up and taken over within seconds.
    config.write_text(config.read_text().replace("  quiet_hours:", "  lease: 3\n  quiet_hours:"))
    subprocess.run([PY, "-m", "bot", "db", "upgrade", "--config", str(config)], env=env, check=True)
    seed(env["DATABASE_URL"], count)
    log = folder / "worker.log"
    first = worker(config, env, log)
    time.sleep(3)
    _, audience, _ = fix_audience(config, env)
    while len(api.fake.accepted()) < audience * KILL_AT:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    at_kill = len(api.fake.accepted())
    second = worker(config, env, log)
    try:
        wait_for(env["DATABASE_URL"], api, audience, 300.0, second)
        time.sleep(2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)
    accepted = Counter(m["to"] for m in api.fake.accepted())
    api.fake.created.clear()
    return {
        "recipients": audience,
        "killed_after": at_kill,
        "lost": audience - len(accepted),
        "doubled": sum(1 for n in accepted.values() if n > 1),
    }


def redirects(folder: Path, env: dict[str, str], seconds: float) -> dict[str, float]:
    """GET /l/{code} per second: smsbot on the campaign's database, and bare aiohttp's constant 302."""
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        codes = list(conn.scalars(select(links.c.code).order_by(func.random()).limit(50_000)))
    engine.dispose()
    paths = folder / "paths.txt"
    paths.write_text("".join(f"/l/{code}\n" for code in codes))
    found: dict[str, float] = {}
    port = free_port()
    bare = Process(
        [PY, str(ROOT / "bench" / "reference_redirect.py"), str(port)], {}, port, folder / "bare.log"
    )
    try:
        found["bare aiohttp, constant 302"] = _wrk(f"http://127.0.0.1:{port}", paths, seconds)
    finally:
        bare.stop()
    port = free_port()
    serve_env = {**env, "SMSBOT_PUBLIC_URL": f"http://127.0.0.1:{port}", "SMSBOT_LOG_LEVEL": "WARNING"}
    argv = [PY, "-m", "bot", "serve", "--port", str(port)]
    server = Process(argv, serve_env, port, folder / "serve.log", os.cpu_count() or 1)
    try:
        found["smsbot serve, GET /l/{code}"] = _wrk(f"http://127.0.0.1:{port}", paths, seconds)
    finally:
        server.stop()
    return found


def _wrk(url: str, paths: Path, seconds: float) -> float:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            "64",
            "-d",
            f"{round(seconds)}s",
            "-s",
            str(ROOT / "bench" / "paths.lua"),
            url,
            "--",
            str(paths),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    result = json.loads(line[5:])
    if result["non_302"]:
        raise RuntimeError(f"{result['non_302']} answers were not 302 at {url}")
    return float(result["requests"]) / (float(result["duration_us"]) / 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--kill-recipients", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=1, help="`smsbot worker` processes sharing the send")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    random.seed(7)
    api = start_api()
    try:
        with tempfile.TemporaryDirectory(prefix="smsbot-bench-campaign-") as tmp:
            figures = drain(Path(tmp), args.recipients, args.rate, api, args.workers)
            late, strict = figures["late_beyond_rate_ms"], figures["late_from_command_ms"]
            print(
                f"{figures['recipients']:,} recipients, {args.workers} worker(s): "
                f"audience fixed in {figures['audience_fixed_s']} s; "
                f"drained at {figures['drain_per_s']:,.0f} msg/s (rate {args.rate:g}/s); late beyond the "
                f"rate p50 {late['p50']} ms, p99 {late['p99']} ms, max {late['max']} ms; "
                f"lost {figures['lost']}, doubled {figures['doubled']}; first hand-over "
                f"{figures['first_after_ms']} ms after the commit; late at each tenth of the send (ms): "
                f"{figures['late_by_tenth_ms']}; counted from the command instead: p50 {strict['p50']} ms, "
                f"p99 {strict['p99']} ms",
                flush=True,
            )
            for name, rate in redirects(Path(tmp), figures["env"], args.seconds).items():
                print(f"redirects: {name}: {rate:,.0f}/s", flush=True)
        with tempfile.TemporaryDirectory(prefix="smsbot-bench-campaign-kill-") as tmp:
            kill = killed(Path(tmp), args.kill_recipients, args.rate, api)
            print(
                f"{kill['recipients']:,} recipients, worker SIGKILLed after "
                f"{kill['killed_after']:,} hand-overs: "
                f"lost {kill['lost']}, doubled {kill['doubled']}",
                flush=True,
            )
    finally:
        api.close()


if __name__ == "__main__":
    main()
