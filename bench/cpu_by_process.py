"""One smsbot saturated with webhooks, and the CPU each process spent a message: where it goes.

    .venv/bin/python bench/cpu_by_process.py [--postgresql URL] [--seconds 8] [--connections 32]

The load of `bench/webhook.py` (pre-signed calls from 50,000 new senders, its mix), on the embedded
defaults or, with --postgresql, on a fresh database of that server and the machine's Redis. After a
2 s warm-up, `wrk` runs for --seconds while the CPU of every process is read from /proc: smsbot's
web processes and flow worker, each PostgreSQL process by what pg_stat_activity says it is, Redis.
Prints the rate, p50/p99, the CPU a message of each, and the writer's mean batch (from /metrics).
To measure a change, run it alternately here and in a worktree of the commit before (a copy of
this file there runs that checkout): the machine's speed drifts by tens of percent in minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import webhook  # noqa: E402
from bench.databases import fresh_postgresql  # noqa: E402

METRICS_TOKEN = "bench-metrics-token"


def family(root: int) -> dict[int, str]:
    """The server and its children, by pid: their command lines."""
    found: dict[int, str] = {}
    waiting = [root]
    while waiting:
        pid = waiting.pop()
        try:
            found[pid] = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        waiting += [int(child) for child in children]
    return found


def services(database_url: str | None) -> dict[int, str]:
    """Redis and PostgreSQL processes; PostgreSQL's named by pg_stat_activity where it can."""
    activity: dict[int, str] = {}
    if database_url:
        query = "SELECT pid, backend_type, coalesce(datname, '') FROM pg_stat_activity"
        out = subprocess.run(["psql", database_url, "-Atc", query], capture_output=True, text=True).stdout
        for line in out.splitlines():
            number, kind, database = line.split("|", 2)
            activity[int(number)] = f"postgres: {kind} {database}".strip()
    named: dict[int, str] = {}
    for pid in webhook._services():
        comm = Path(f"/proc/{pid}/comm").read_text().strip() if Path(f"/proc/{pid}").exists() else "?"
        named[pid] = activity.get(pid, "postgres: other" if comm == "postgres" else comm)
    return named


def label(command: str) -> str:
    if " serve" in command and "bot" in command:
        return "smsbot web processes" if "--web-pro" in command else "smsbot supervisor"
    if " worker" in command and "bot" in command:
        return "smsbot flow worker"
    return command[:60]


def mean_batch(port: int) -> float | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        text = answer.read().decode()
    figures = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith(("smsbot_writer_batch_size_sum", "smsbot_writer_batch_size_count"))
    }
    count = figures.get("smsbot_writer_batch_size_count", 0.0)
    return figures.get("smsbot_writer_batch_size_sum", 0.0) / count if count else None


def measure(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="smsbot-cpu-"))
    port = webhook.free_port()
    url = f"http://127.0.0.1:{port}/twilio/sms"
    requests = work / "requests.txt"
    webhook.make_requests(requests, url, int(args.seconds * 4000) + 20000, 50_000)
    chosen: dict[str, str] | None = None
    if args.postgresql:
        fresh = asyncio.run(fresh_postgresql(args.postgresql, "smsbot_bench_cpu"))
        chosen = {"DATABASE_URL": fresh, "REDIS_URL": args.redis}
    os.environ["SMSBOT_METRICS_TOKEN"] = METRICS_TOKEN
    server = webhook.smsbot(work / "data", port, chosen)
    try:
        webhook.wrk(url, requests, 2, args.connections)  # warm-up
        names = {pid: label(command) for pid, command in family(server.proc.pid).items()}
        names |= services(chosen["DATABASE_URL"] if chosen else None)
        before = {pid: webhook._cpu(pid) for pid in names}
        result = webhook.wrk(url, requests, args.seconds, args.connections)
        spent: dict[str, float] = {}
        for pid, name in names.items():
            spent[name] = spent.get(name, 0.0) + (webhook._cpu(pid) - before[pid]) / result["requests"] * 1e6
        batch = mean_batch(port)
    finally:
        server.stop()
    print(
        f"{'PostgreSQL' if chosen else 'SQLite'}: {result['rate']:.0f} msg/s, p50 "
        f"{result['p50_us'] / 1000:.1f} ms, p99 {result['p99_us'] / 1000:.1f} ms, errors "
        f"{result['errors'] + result['non_2xx']:.0f}, mean writer batch "
        + (f"{batch:.1f}" if batch is not None else "?")
    )
    for name, micros in sorted(spent.items(), key=lambda item: -item[1]):
        if micros >= 1:
            print(f"  {micros:7.0f} us/msg  {name}")
    print(f"  {sum(spent.values()):7.0f} us/msg  in all")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgresql", default="", help="a PostgreSQL server (default: the embedded SQLite)")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
