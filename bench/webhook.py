"""Drive the webhook like a carrier and print throughput and latency, beside two references.

    .venv/bin/python bench/webhook.py [--rounds 2] [--seconds 8] [--connections 32] [--skip-scale]

- smsbot with the embedded defaults (SQLite file, embedded Redis), signatures checked;
- the ceiling: bare aiohttp parsing the form and answering constant TwiML;
- Twilio's tutorial bot: Flask + RequestValidator + MessagingResponse + SQLite under gunicorn.
Throughput comes from wrk (closed loop, pre-signed requests, each with its own MessageSid), every
server in turn, round after round, each round's ratios taken within it; latency from an open-loop
generator at half each smsbot's saturated rate; per-message cost is the CPU time per message of the
server and of the Redis and PostgreSQL it uses, and at 10,000 and 1,000,000 stored subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_postgresql  # noqa: E402

TOKEN = "bench-auth-token-0123456789abcdef"
PY = sys.executable
MIX = [("JOIN", 40), ("STOP", 10), ("HELP", 10), ("what's new this week?", 25), ("hi", 10), ("start", 5)]


def phone(n: int) -> str:
    """The n-th sender: 415-200-0000 on, numbers in a real exchange as a carrier delivers them (the
    runs before 2026-12-07 texted from 415-000-0000 on, an exchange no number is in, which made every
    number's country the slowest to work out)."""
    return f"+1415{2_000_000 + n:07d}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {system}, Python {platform.python_version()}"


def make_requests(path: Path, url: str, count: int, senders: int, first_sender: int = 0) -> None:
    """Pre-sign `count` webhook calls from `senders` distinct numbers, in a realistic mix."""
    validator = RequestValidator(TOKEN)
    words = [w for w, n in MIX for _ in range(n)]
    rng = random.Random(7)
    with path.open("w") as out:
        for _ in range(count):
            params = {
                "MessageSid": "SM" + uuid.UUID(int=rng.getrandbits(128)).hex,
                "AccountSid": "AC" + "0" * 32,
                "From": phone(first_sender + rng.randrange(senders)),
                "To": "+15005550006",
                "Body": rng.choice(words),
                "NumMedia": "0",
            }
            out.write(f"{validator.compute_signature(url, params)}\t{urlencode(params)}\n")


def listening(port: int) -> int:
    """Sockets listening on the port (IPv4 and IPv6), from the kernel's tables."""
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            found += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return found


class Process:
    running: ClassVar[list[Process]] = []  # stopped in main()'s finally, even when a run fails
    redis: tuple[str, str] | None = None  # an external Redis and the prefix of this server's keys

    def __init__(
        self, argv: list[str], env: dict[str, str], port: int, log: Path, listeners: int = 1
    ) -> None:
        """Start, and return once `listeners` sockets listen on the port (smsbot's web processes
        each have their own): wrk's connections, made at once and kept, would all go to the first."""
        self.port = port
        self.log = log
        self.proc = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        Process.running.append(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{argv[:3]} exited:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    pass
                if listening(port) >= listeners:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{argv[:3]} did not start:\n{log.read_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        """User+system CPU so far of the server and its children (all gunicorn workers count), and
        of every Redis and PostgreSQL process on the machine (the services it uses, embedded or
        not: their CPU is the message's too)."""
        pids = {self.proc.pid}
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            pids |= {int(p) for p in children}
        except OSError:
            pass
        return sum(_cpu(pid) for pid in pids | _services())

    def stop(self) -> None:
        import signal

        if self in Process.running:
            Process.running.remove(self)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.redis is not None:
            forget_keys(*self.redis)
            self.redis = None


def forget_keys(url: str, prefix: str) -> int:
    """Delete a stopped server's keys from a shared Redis: a run leaves some 10,000 (each message's
    claim is kept a day), and whoever scans that Redis next, the test suite included, would wade
    through every one. The number deleted."""
    import redis

    client = redis.Redis.from_url(url)
    gone = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                gone += client.unlink(*batch)
                batch.clear()
        if batch:
            gone += client.unlink(*batch)
    finally:
        client.close()
    return gone


SERVICES = ("redis-server", "postgres")


def _services() -> set[int]:
    """The machine's Redis and PostgreSQL processes."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in SERVICES:
                    found.add(int(entry.name))
            except OSError:
                pass
    return found


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return 0.0


def wrk(url: str, requests: Path, seconds: float, connections: int, threads: int = 1) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "replay.lua"),
            url,
            "--",
            str(requests),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    result: dict[str, float] = json.loads(line[5:])
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def smsbot(data: Path, port: int, services: dict[str, str] | None = None) -> Process:
    """smsbot serve on the embedded defaults, or on the `services` given (DATABASE_URL, REDIS_URL)."""
    env = {
        "SMSBOT_DATA_DIR": str(data),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SMSBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SMSBOT_LOG_LEVEL": "WARNING",
        "SMSBOT_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "SMSBOT_CONFIG"):
        env[name] = ""
    env.update(services or {})
    data.mkdir(parents=True, exist_ok=True)
    web_processes = os.cpu_count() or 1  # the default: one per core
    server = Process(
        [PY, "-m", "bot", "serve", "--port", str(port)], env, port, data / "serve.log", web_processes
    )
    if env["REDIS_URL"]:
        server.redis = (env["REDIS_URL"], env["SMSBOT_REDIS_PREFIX"])
    return server


def seed(data: Path, count: int) -> None:
    """Store `count` subscribers (`phone(0)` upwards), straight into a migrated database."""
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{data / 'smsbot.db'}"}
    subprocess.run([PY, "-m", "bot", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    conn = sqlite3.connect(data / "smsbot.db")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    rows = ((phone(i), "subscribed", "JOIN", "JOIN", "{}", now, now, now) for i in range(count))
    conn.executemany(
        "INSERT INTO subscribers (phone, status, opt_in_source, opt_in_keyword, properties, created_at,"
        " updated_at,"
        " subscribed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()


def throughput(name: str, proc: Process, requests: Path, args: argparse.Namespace) -> dict[str, float]:
    url = f"http://127.0.0.1:{proc.port}/twilio/sms"
    wrk(url, requests, 2, args.connections)  # warm-up
    before = proc.cpu_seconds()
    result = wrk(url, requests, args.seconds, args.connections)
    result["cpu_us_per_msg"] = (proc.cpu_seconds() - before) / result["requests"] * 1e6
    print(
        f"  {name:<34} {result['rate']:>8.0f} msg/s   p50 {result['p50_us'] / 1000:6.1f} ms   "
        f"p99 {result['p99_us'] / 1000:6.1f} ms   CPU {result['cpu_us_per_msg']:5.0f} us/msg   "
        f"errors {result['errors'] + result['non_2xx']}"
        + ("   (requests reused!)" if result["wrapped"] else ""),
        flush=True,
    )
    return result


Results = dict[str, object]
Round = dict[str, dict[str, float]]  # a round's saturated figures, by server


def bare_run(work: Path, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    reqs = work / "bare.txt"
    make_requests(reqs, f"http://127.0.0.1:{port}/twilio/sms", int(args.seconds * 30000) + 60000, 50_000)
    bare = Process([PY, str(ROOT / "bench" / "reference_bare.py"), str(port)], {}, port, work / "bare.log")
    try:
        return throughput("bare aiohttp (ceiling)", bare, reqs, args)
    finally:
        bare.stop()


def tutorial_run(work: Path, count: int, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    reqs = work / "flask.txt"
    make_requests(reqs, f"http://127.0.0.1:{port}/twilio/sms", count, 50_000)
    workers = 2 * (os.cpu_count() or 1) + 1
    (work / "tutorial.db").unlink(missing_ok=True)  # each round on a fresh file, as smsbot's
    flask = Process(
        [
            PY,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT / "bench"),
            "reference_flask:app",
        ],
        {
            "TUTORIAL_DB": str(work / "tutorial.db"),
            "TUTORIAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TWILIO_AUTH_TOKEN": TOKEN,
        },
        port,
        work / "flask.log",
    )
    try:
        return throughput(f"tutorial bot (Flask, gunicorn -w {workers})", flask, reqs, args)
    finally:
        flask.stop()


def smsbot_saturated(
    work: Path, count: int, args: argparse.Namespace, on: str, round_no: int
) -> dict[str, float]:
    """smsbot saturated on a fresh database: the embedded defaults, or PostgreSQL and the local
    Redis."""
    label = "SQLite + embedded Redis" if on == "sqlite" else "PostgreSQL + Redis"
    port = free_port()
    reqs = work / f"smsbot-{on}.txt"
    make_requests(reqs, f"http://127.0.0.1:{port}/twilio/sms", count, 50_000)
    proc = smsbot(work / f"smsbot-{on}-{round_no}", port, _services_for(on, args))
    try:
        return throughput(f"smsbot, {label}", proc, reqs, args)
    finally:
        proc.stop()


def smsbot_open_loop(work: Path, args: argparse.Namespace, on: str, rate: float) -> dict[str, float]:
    """smsbot on a fresh database, driven at a fixed rate (half its saturated one, or --rate)."""
    port = free_port()
    reqs = work / f"smsbot-{on}-rate.txt"
    make_requests(
        reqs,
        f"http://127.0.0.1:{port}/twilio/sms",
        int(rate * (args.seconds + 3)) + 10,  # 3 s of warm-up first
        50_000,
        first_sender=1_000_000,
    )
    proc = smsbot(work / f"smsbot-{on}-rate", port, _services_for(on, args))
    try:
        fixed = _open_loop(port, reqs, rate, args.seconds)
    finally:
        proc.stop()
    name = f"smsbot {on}, open loop at {int(rate)} msg/s"
    print(
        f"  {name:<34} {fixed['achieved_rate']:>8.0f} msg/s   p50 {fixed['p50_ms']:6.1f} ms   "
        f"p99 {fixed['p99_ms']:6.1f} ms   max {fixed['max_ms']:.1f} ms   "
        f"failures {fixed['failures']}",
        flush=True,
    )
    return fixed


def rounds(work: Path, count: int, args: argparse.Namespace, databases: list[str]) -> list[Round]:
    """Every server saturated in turn, round after round: the machine's drift over minutes falls
    on all of them alike, and each round's ratios compare servers measured minutes apart."""
    done: list[Round] = []
    for n in range(1, args.rounds + 1):
        print(f"round {n} of {args.rounds}:", flush=True)
        found: Round = {}
        if args.only in (None, "refs"):
            found["bare_aiohttp"] = bare_run(work, args)
            found["tutorial_flask"] = tutorial_run(work, count, args)
        if args.only in (None, "smsbot"):
            for on in databases:
                found[f"smsbot_{on}"] = smsbot_saturated(work, count, args, on, n)
        done.append(found)
    return done


def _open_loop(port: int, reqs: Path, rate: float, seconds: float) -> dict[str, float]:
    out = subprocess.run(
        [
            PY,
            str(ROOT / "bench" / "openloop.py"),
            f"http://127.0.0.1:{port}/twilio/sms",
            str(reqs),
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, float] = json.loads(out)
    return found


def _services_for(on: str, args: argparse.Namespace) -> dict[str, str] | None:
    """The embedded defaults (None), or a fresh PostgreSQL database and the local Redis."""
    if on == "sqlite":
        return None
    fresh = asyncio.run(fresh_postgresql(args.postgresql, "smsbot_bench_webhook"))
    return {"DATABASE_URL": fresh, "REDIS_URL": args.redis}


def _answers(url: str) -> bool:
    """Is a PostgreSQL server there? (Without one the second run is left out, and said so.)"""
    from sqlalchemy import make_url

    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    ok = subprocess.run(["psql", admin, "-qc", "SELECT 1"], capture_output=True).returncode == 0
    if not ok:
        print(f"(no PostgreSQL at {make_url(url).host}: its run is left out)")
    return ok


SERVERS = (
    ("bare_aiohttp", "bare aiohttp, constant TwiML"),
    ("tutorial_flask", "tutorial bot (Flask, SQLite)"),
    ("smsbot_sqlite", "smsbot, SQLite + embedded Redis"),
    ("smsbot_postgresql", "smsbot, PostgreSQL + Redis"),
)


def summary(done: list[Round], open_loops: dict[str, dict[str, float]]) -> None:
    """The table the README quotes: each round's rates, and each server's beside the tutorial bot's
    and bare aiohttp's of the same round."""
    print("\nsummary (ratios within each round):")
    print(f"  {'server':<34} {'msg/s':>15} {'p99':>15} {'CPU/msg':>13} {'× tutorial':>15} {'of bare':>15}")
    for key, name in SERVERS:
        measured = [r for r in done if key in r]
        if not measured:
            continue
        rows = [r[key] for r in measured]
        tutorial = [r["tutorial_flask"]["rate"] for r in measured if "tutorial_flask" in r]
        bare = [r["bare_aiohttp"]["rate"] for r in measured if "bare_aiohttp" in r]
        rates = _each(f"{x['rate']:.0f}" for x in rows)
        p99 = _each(f"{x['p99_us'] / 1000:.1f}" for x in rows)
        cpu = _each(f"{x['cpu_us_per_msg']:.0f}" for x in rows)
        times = _each(f"{x['rate'] / t:.2f}×" for x, t in zip(rows, tutorial, strict=False))
        share = _each(f"{x['rate'] / b:.1%}" for x, b in zip(rows, bare, strict=False))
        print(f"  {name:<34} {rates:>15} {p99:>12} ms {cpu:>10} us {times:>15} {share:>15}")
    for on, fixed in open_loops.items():
        print(
            f"  open loop, {on}: p99 {fixed['p99_ms']:.1f} ms at {fixed['achieved_rate']:.0f} msg/s "
            "(half its saturated rate)"
        )


def _each(values: Iterable[str]) -> str:
    return " / ".join(values)


def scale(work: Path, count: int, args: argparse.Namespace, results: Results) -> None:
    print("per-message cost against stored subscribers (senders drawn from the stored ones):")
    for stored in (10_000, 1_000_000):
        data = work / f"scale-{stored}"
        started = time.monotonic()
        seed(data, stored)
        print(f"  seeded {stored:,} subscribers in {time.monotonic() - started:.1f}s", flush=True)
        port = free_port()
        reqs = work / f"scale-{stored}.txt"
        make_requests(reqs, f"http://127.0.0.1:{port}/twilio/sms", count, stored)
        proc = smsbot(data, port)
        results[f"smsbot_{stored}"] = throughput(f"smsbot, {stored:,} subscribers", proc, reqs, args)
        proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every server, alternating")
    parser.add_argument(
        "--rate", type=float, default=0, help="the open loop's rate (default: half the saturated rate)"
    )
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server for the second smsbot run ('' to skip it)",
    )
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--skip-scale", action="store_true", help="skip the 10k vs 1M subscribers run")
    parser.add_argument("--only", choices=["smsbot", "refs", "scale"], help="run just one part")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: `make bench` installs it")

    work = Path(tempfile.mkdtemp(prefix="smsbot-bench-"))
    count = int(args.seconds * 8000) + 20000
    print(f"machine: {machine()}")
    print(
        f"load: wrk, 1 thread, {args.connections} connections, {args.seconds:.0f}s; mix "
        + ", ".join(f"{w} {n}%" for w, n in MIX)
    )
    databases = ["sqlite"]
    if args.only in (None, "smsbot") and args.postgresql and _answers(args.postgresql):
        databases.append("postgresql")
    results: Results = {"machine": machine()}
    done: list[Round] = []
    open_loops: dict[str, dict[str, float]] = {}
    try:
        if args.only in (None, "refs", "smsbot"):
            done = rounds(work, count, args, databases)
            results["rounds"] = done
        if args.only in (None, "smsbot"):
            for on in databases:
                saturated = [r[f"smsbot_{on}"]["rate"] for r in done]
                rate = args.rate or max(1.0, round(sum(saturated) / len(saturated) / 2))
                open_loops[on] = smsbot_open_loop(work, args, on, rate)
            results["open_loop"] = open_loops
        if args.only in (None, "scale") and not args.skip_scale:
            scale(work, count, args, results)
    finally:
        for proc in list(Process.running):
            proc.stop()
        out_dir = ROOT / "bench" / "out"
        out_dir.mkdir(exist_ok=True)
        (out_dir / "webhook.json").write_text(json.dumps(results, indent=2))
        shutil.rmtree(work, ignore_errors=True)
    summary(done, open_loops)
    print(f"figures saved to {out_dir / 'webhook.json'}")


if __name__ == "__main__":
    main()
