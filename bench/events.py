"""Store events in, and orders attributed.

    .venv/bin/python bench/events.py [--subscribers 100000] [--seconds 10] [--postgresql URL]

- ingest: `smsbot serve` on the embedded defaults (one web process per core, the shipped program,
  so every checkout starts the cart reminder and every order the confirmation) answering wrk (32
  connections) posting pre-made events: POST /api/events with 1 and with 100 events a call, and
  Shopify's signed `checkouts/create` webhooks; events a second, p50 and p99 of each call, beside
  bare aiohttp reading the same calls' JSON and answering a constant 200 in the same run
  (`bench/reference_events.py`);
- attribution: 100,000 orders of 100,000 subscribers over 1,000,000 campaign messages and 10,000
  clicks (a tenth of the subscribers tapped), credited by the same function the writer runs
  (`attribute`), 1,000 orders a transaction, on SQLite and (with --postgresql) on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import PY, Process, free_port, machine, phone  # noqa: E402
from bench.webhook import seed as seed_subscribers  # noqa: E402
from bot.domain.attribution import Windows  # noqa: E402
from bot.pipeline.store_events import attribute  # noqa: E402
from bot.store import db  # noqa: E402
from bot.store.schema import campaigns, clicks, links, messages, store_events, subscribers  # noqa: E402
from tests.shopify_payloads import CHECKOUT, signature  # noqa: E402

TOKEN = "bench-events-token"
SECRET = "bench-shopify-secret"
NOW = datetime.now(UTC)


def checkout(n: int, subscribers_count: int) -> dict[str, Any]:
    return {
        "id": f"chk-{n}",
        "phone": phone(n % subscribers_count),
        "type": "checkout_started",
        "occurred_at": NOW.isoformat(),
        "properties": {
            "checkout_id": f"c{n}",
            "total_price": "129.95",
            "currency": "USD",
            "abandoned_checkout_url": f"https://shop.example/cart/{n}?key=k",
            "line_items": [{"title": "Trail runner", "quantity": 1, "price": "129.95"}],
        },
    }


def api_requests(path: Path, count: int, per_call: int, subscribers_count: int) -> None:
    with path.open("w") as out:
        for call in range(count):
            batch = [checkout(call * per_call + i, subscribers_count) for i in range(per_call)]
            out.write(json.dumps({"events": batch}) + "\n")


def shopify_requests(path: Path, count: int, subscribers_count: int) -> None:
    with path.open("w") as out:
        for n in range(count):
            payload = {**CHECKOUT, "id": n, "token": f"t{n}", "phone": phone(n % subscribers_count)}
            body = json.dumps(payload)
            headers = [
                "X-Shopify-Topic: checkouts/create",
                f"X-Shopify-Webhook-Id: {uuid.UUID(int=random.getrandbits(128))}",
                f"X-Shopify-Hmac-Sha256: {signature(body.encode(), SECRET)}",
            ]
            out.write("\t".join([*headers, body]) + "\n")


def wrk(url: str, requests: Path, path: str, seconds: float, auth: str | None = None) -> dict[str, float]:
    argv = ["wrk", "-t", "1", "-c", "32", "-d", f"{round(seconds)}s", "--timeout", "10s"]
    argv += ["-s", str(ROOT / "bench" / "events.lua"), url, "--", str(requests), "1", path]
    out = subprocess.run(
        [*argv, *([auth] if auth else [])], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, float] = json.loads(next(x for x in out.splitlines() if x.startswith("JSON "))[5:])
    if found["non_2xx"] or found["errors"]:
        raise RuntimeError(f"{path}: {found['non_2xx']} answers not 2xx, {found['errors']} errors")
    found["calls_per_s"] = found["requests"] / (found["duration_us"] / 1e6)
    return found


def ingest(work: Path, count: int, seconds: float) -> list[tuple[str, float, dict[str, float]]]:
    data = work / "var"
    seed_subscribers(data, count)
    runs: list[tuple[str, Path, str, int, str | None]] = []
    for per_call in (1, 100):
        requests = work / f"api-{per_call}.txt"
        api_requests(requests, 60_000 // per_call, per_call, count)
        runs.append(
            (f"POST /api/events, {per_call} a call", requests, "/api/events", per_call, f"Bearer {TOKEN}")
        )
    shopify = work / "shopify.txt"
    shopify_requests(shopify, 40_000, count)
    runs.append(("Shopify checkouts/create webhooks", shopify, "/shopify/webhooks", 1, None))
    results = []
    for name, requests, path, per_call, auth in runs:
        port = free_port()
        bare = Process(
            [PY, str(ROOT / "bench" / "reference_events.py"), str(port)], {}, port, work / "bare.log"
        )
        try:
            reference = wrk(f"http://127.0.0.1:{port}", requests, path, seconds, auth)
        finally:
            bare.stop()
        found = _served(data, requests, path, seconds, auth)
        results.append(
            (name, per_call * found["calls_per_s"], {**found, "bare_calls_per_s": reference["calls_per_s"]})
        )
    return results


def _served(data: Path, requests: Path, path: str, seconds: float, auth: str | None) -> dict[str, float]:
    port = free_port()
    env = {
        "SMSBOT_DATA_DIR": str(data),
        "SMSBOT_EVENTS_TOKEN": TOKEN,
        "SHOPIFY_WEBHOOK_SECRET": SECRET,
        "SMSBOT_LOG_LEVEL": "WARNING",
        **{name: "" for name in ("DATABASE_URL", "REDIS_URL", "SMSBOT_CONFIG", "TWILIO_AUTH_TOKEN")},
    }
    argv = [PY, "-m", "bot", "serve", "--port", str(port)]
    server = Process(argv, env, port, data / "serve.log", os.cpu_count() or 1)
    try:
        return wrk(f"http://127.0.0.1:{port}", requests, path, seconds, auth)
    finally:
        server.stop()


# -- attribution ----------------------------------------------------------------------------------


def seed_history(url: str, people: int, per_person: int) -> list[int]:
    """Subscribers, their campaign messages (a tenth of them tapped), and an order each an hour
    after their last message; the orders' ids."""

    async def run() -> list[int]:
        engine = db.create_engine(url)
        try:
            async with engine.begin() as conn:
                orders = await conn.run_sync(_seed, people, per_person)
            async with engine.begin() as conn:  # statistics, as autovacuum would gather after a load
                await conn.exec_driver_sql("ANALYZE")
            return orders
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _seed(conn: Connection, people: int, per_person: int) -> list[int]:
    for start in range(0, people, 10_000):
        conn.execute(insert(subscribers), [_person(n) for n in range(start, min(people, start + 10_000))])
    campaign = conn.execute(insert(campaigns).values(**_campaign()).returning(campaigns.c.id)).scalar_one()
    for start in range(0, people, 2_000):
        conn.execute(
            insert(messages),
            [
                _message(n, k, campaign)
                for n in range(start, min(people, start + 2_000))
                for k in range(per_person)
            ],
        )
    tapped = range(0, people, 10)
    conn.execute(insert(links), [_link(n, campaign) for n in tapped])
    ids = dict(conn.execute(select(links.c.code, links.c.id)).all())
    conn.execute(insert(clicks), [_click(n, ids[f"b{n}"], campaign) for n in tapped])
    for start in range(0, people, 10_000):
        conn.execute(insert(store_events), [_order(n) for n in range(start, min(people, start + 10_000))])
    orders = list(conn.scalars(select(store_events.c.id).order_by(store_events.c.id)))
    return orders


def _person(n: int) -> dict[str, Any]:
    return {
        "phone": f"+1415{n:07d}",
        "status": "subscribed",
        "opt_in_source": "JOIN",
        "properties": {},
        "created_at": NOW,
        "updated_at": NOW,
    }


def _campaign() -> dict[str, Any]:
    return {
        "name": "bench",
        "round": 1,
        "status": "finished",
        "fingerprint": "f",
        "definition": {},
        "audience": 0,
        "started_by": "bench",
        "started_at": NOW,
        "updated_at": NOW,
    }


def _message(n: int, k: int, campaign: int) -> dict[str, Any]:
    at = NOW - timedelta(days=k, hours=2)
    return {
        "subscriber_id": n + 1,
        "direction": "outbound",
        "body": "sale",
        "media_urls": [],
        "ref": f"m{n}.{k}",
        "status": "delivered",
        "created_at": at,
        "updated_at": at,
        "handed_at": at,
        "campaign_id": campaign,
    }


def _link(n: int, campaign: int) -> dict[str, Any]:
    return {
        "code": f"b{n}",
        "url": "https://shop.example",
        "subscriber_id": n + 1,
        "message_ref": f"m{n}.1",
        "origin": "campaign",
        "origin_name": "bench",
        "campaign_id": campaign,
        "created_at": NOW,
    }


def _click(n: int, link_id: int, campaign: int) -> dict[str, Any]:
    return {
        "link_id": link_id,
        "subscriber_id": n + 1,
        "campaign_id": campaign,
        "preview": False,
        "at": NOW - timedelta(days=1),
    }


def _order(n: int) -> dict[str, Any]:
    return {
        "source": "api",
        "external_id": f"o{n}",
        "type": "order_placed",
        "phone": f"+1415{n:07d}",
        "subscriber_id": n + 1,
        "order_ref": f"o{n}",
        "value_minor": 12995,
        "currency": "USD",
        "properties": {},
        "occurred_at": NOW - timedelta(hours=1),
        "received_at": NOW,
    }


def attribution(url: str, orders: list[int]) -> tuple[float, int]:
    """Seconds to credit every order, 1,000 a transaction; orders credited."""

    async def run() -> tuple[float, int]:
        engine = db.create_engine(url)
        writes = db.WriteTransactions(engine, url, name="bench-db")
        credited = 0
        began = time.perf_counter()
        try:
            for start in range(0, len(orders), 1_000):
                credited += len(await writes.run(attribute, orders[start : start + 1_000], Windows()))
        finally:
            writes.close()
            await engine.dispose()
        return time.perf_counter() - began, credited

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--messages-each", type=int, default=10)
    parser.add_argument("--postgresql", help="also attribute on this (empty) PostgreSQL database")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    random.seed(7)
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-events-") as tmp:
        for name, per_s, found in ingest(Path(tmp), args.subscribers, args.seconds):
            print(
                f"{name}: {per_s:,.0f} events/s ({found['calls_per_s']:,.0f} calls/s; bare aiohttp "
                f"{found['bare_calls_per_s']:,.0f} calls/s), p50 {found['p50_us'] / 1000:.1f} ms, "
                f"p99 {found['p99_us'] / 1000:.1f} ms, max {found['max_us'] / 1000:.0f} ms",
                flush=True,
            )
        urls = [("SQLite", f"sqlite:///{Path(tmp) / 'attribution.db'}")]
        if args.postgresql:
            urls.append(("PostgreSQL", args.postgresql))
        for name, url in urls:
            subprocess.run(
                [PY, "-m", "bot", "db", "upgrade"],
                env={**os.environ, "DATABASE_URL": url},
                check=True,
                capture_output=True,
            )
            orders = seed_history(url, args.orders, args.messages_each)
            took, credited = attribution(url, orders)
            print(
                f"attribution, {name}: {len(orders):,} orders over {args.orders * args.messages_each:,} "
                f"messages in {took:.1f} s ({credited:,} credited)",
                flush=True,
            )


if __name__ == "__main__":
    main()
