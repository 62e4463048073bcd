"""Every dashboard page's time on a big program.

    .venv/bin/python bench/dashboard.py [--subscribers 1000000] [--postgresql URL]

Builds the segments bench's list (`--subscribers` subscribers, 20 messages and 10 keyword events
each on average, spread over two years) with a consent record for each join and opt-out, in a fresh
SQLite file and, with --postgresql (or DATABASE_URL), a fresh PostgreSQL database; the counting
triggers keep the dashboard's counts while it is written, as they do in service. Then serves the
real app on it (embedded Redis), counts every segment as the worker does every 5 minutes (timed),
logs in, and times each page over HTTP: the median and the worst of five loads after a first one.
The reference in the same run: the login page, which reads nothing. `--keep DIR` keeps both lists
(the SQLite file in DIR, the PostgreSQL database smsbot_bench_dashboard) for the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.databases import fresh_postgresql  # noqa: E402
from bench.segments import fill_postgresql, fill_sqlite, prepare  # noqa: E402
from bench.webhook import machine  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.domain.quiet_hours import QuietHours, Window  # noqa: E402
from bot.http.admin import read, write  # noqa: E402
from bot.pipeline import campaigns  # noqa: E402
from bot.program.loader import load_program  # noqa: E402
from bot.services import SERVICES  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store import activity, db, segment_counts  # noqa: E402
from tests.dashboard.test_auth import log_in  # noqa: E402

PASSWORD = "bench dashboard password"
ALWAYS = QuietHours(default=Window(clock(0, 0), clock(23, 59, 59, 999999)))
PAGES = [
    ("login (reads nothing)", "/dashboard/login"),
    ("overview, 30 days", "/dashboard"),
    ("overview, 90 days by week", "/dashboard?period=90&by=week"),
    ("keywords", "/dashboard/keywords"),
    ("flows", "/dashboard/flows"),
    ("campaigns", "/dashboard/campaigns"),
    ("campaign report (shoe_sale)", "/dashboard/campaigns/shoe_sale"),
    ("segments (kept counts)", "/dashboard/segments"),
    ("segment vip", "/dashboard/segments/vip"),
    ("subscribers (review list)", "/dashboard/subscribers"),
    ("a subscriber", "/dashboard/subscribers?phone=%2B14150000007"),
    ("program", "/dashboard/program"),
]
LOADS = 5

# A consent record for each subscriber who joined and each who left, as the pipeline writes them.
CONSENT = [
    "INSERT INTO consent_events (subscriber_id, action, from_status, to_status, keyword, source, at) "
    "SELECT id, 'opt_in', 'new', 'subscribed', opt_in_keyword, opt_in_source, created_at "
    "FROM subscribers WHERE status <> 'pending'",
    "INSERT INTO consent_events (subscriber_id, action, from_status, to_status, keyword, source, at) "
    "SELECT id, 'opt_out', 'subscribed', 'unsubscribed', 'STOP', NULL, updated_at "
    "FROM subscribers WHERE status = 'unsubscribed'",
]


async def consent_and_fold(url: str) -> int:
    """The consent records; then the counts folded, as the worker does every 15 s."""
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in CONSENT:
                await conn.execute(text(statement))
        async with engine.begin() as conn:
            return await conn.run_sync(activity.fold)
    finally:
        await engine.dispose()


# The shoe sale's audience, sent as the worker sends: each recipient's message handed over and
# delivered (one in fifty failed), a tenth of them tapped through their tracked link.
SENT = [
    "INSERT INTO messages (subscriber_id, direction, body, media_urls, ref, status, error_code, "
    "created_at, updated_at, handed_at, campaign_id, marketing, attempts) "
    "SELECT subscriber_id, 'outbound', 'sale', '[]', 'bench-' || id, "
    "CASE WHEN id % 50 = 0 THEN 'failed' ELSE 'delivered' END, CASE WHEN id % 50 = 0 THEN 30003 END, "
    ":now, :now, :now, campaign_id, true, 1 FROM campaign_recipients",
    "UPDATE campaign_recipients SET status = 'queued', "
    "message_id = (SELECT id FROM messages WHERE ref = 'bench-' || campaign_recipients.id)",
    "UPDATE campaigns SET status = 'finished', finished_at = :now",
    "INSERT INTO links (code, url, subscriber_id, message_ref, origin, origin_name, campaign_id, created_at) "
    "SELECT 'b' || id, 'https://acme.example/shoes', subscriber_id, 'bench-' || id, 'campaign', "
    "'shoe_sale', campaign_id, :now FROM campaign_recipients WHERE id % 10 = 0",
    "INSERT INTO clicks (link_id, subscriber_id, campaign_id, preview, at) "
    "SELECT id, subscriber_id, campaign_id, false, :now FROM links",
]


async def send_the_sale(url: str) -> int:
    """The shoe sale sent to its segment (its audience fixed by the dashboard's own start); its
    audience, or 0 when a kept list has it already."""
    program = load_program(ROOT / "keywords").program
    now = datetime.now(UTC)
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            if (await conn.execute(text("SELECT count(*) FROM campaigns"))).scalar_one():
                return 0
            started = await conn.run_sync(
                lambda sync: campaigns.start(
                    sync, program.campaigns["shoe_sale"], program, ALWAYS, now, "bench"
                )
            )
            stamp = now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now
            for statement in SENT:
                await conn.execute(text(statement), {"now": stamp})
        async with engine.begin() as conn:
            await conn.run_sync(activity.fold)
        return int(started.audience)
    finally:
        await engine.dispose()


async def vacuum(url: str) -> None:
    """What autovacuum does within a minute of a load: the folded deltas' dead rows reclaimed and
    the tables analysed (until then, reads of the deltas wade through 40 million dead rows)."""
    import asyncpg
    from sqlalchemy import make_url

    conn = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def served(url: str, folder: Path, password: str = PASSWORD) -> TestClient[Any, Any]:
    """The real app on the database at `url` (embedded Redis, or REDIS_URL), started."""
    settings = load_settings(
        ROOT / "config.yaml",
        env={},
        data_dir=folder / "var",
        keywords_dir=ROOT / "keywords",
        database_url=url,
        redis_url=os.environ.get("REDIS_URL"),
        dashboard_password=password,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client


async def measure(url: str, folder: Path) -> dict[str, tuple[float, float]]:
    client = await served(url, folder)
    timings: dict[str, tuple[float, float]] = {}
    try:
        timings["(worker) every segment counted"] = await count_segments(client)
        await log_in(client, PASSWORD)
        timings.update(await time_pages(client, PAGES))
    finally:
        await client.close()
    return timings


async def time_pages(
    client: TestClient[Any, Any], pages: list[tuple[str, str]]
) -> dict[str, tuple[float, float]]:
    """Each page's median and worst time over LOADS loads, after a first one that warms the caches."""
    timings = {}
    for name, path in pages:
        took = []
        for load in range(LOADS + 1):
            started = time.perf_counter()
            response = await client.get(path)
            await response.read()
            assert response.status == 200, (path, response.status)
            if load:
                took.append(time.perf_counter() - started)
        timings[name] = (statistics.median(took), max(took))
    return timings


async def count_segments(client: TestClient[Any, Any]) -> tuple[float, float]:
    """What the worker does every 5 minutes, timed: every segment counted (a read), then kept."""
    assert client.app is not None
    services = client.app[SERVICES]
    program = services.program.current
    started = time.perf_counter()
    counted = await read(
        services, segment_counts.count_now, program, list(program.segments), datetime.now(UTC)
    )
    await write(services, segment_counts.keep, program, counted)
    took = time.perf_counter() - started
    return took, took


def report(kind: str, filled: dict[str, int], took: float, folded: int, found: dict[str, Any]) -> None:
    built = (
        f"built in {took:.0f} s ({filled['messages']:,} messages, "
        f"{filled['keyword events']:,} keyword events; {folded:,} counts folded)"
        if filled["messages"]
        else "the kept list"
    )
    print(f"\n{kind}: {built}")
    print(f"{'page':<30} {'median':>9} {'worst':>9}")
    for name, (median, worst) in found.items():
        print(f"{name:<30} {median * 1000:>6.0f} ms {worst * 1000:>6.0f} ms")


def run(url: str, folder: Path, fill: Any, built: bool) -> None:
    """Build the list unless `built` (a kept one), then time the pages."""
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    asyncio.run(prepare(url))
    started = time.perf_counter()
    filled, folded = {"messages": 0, "keyword events": 0}, 0
    if not built:
        filled = fill()
        folded = asyncio.run(consent_and_fold(url))
    sent = asyncio.run(send_the_sale(url))
    if sent:
        print(f"{kind}: the shoe sale sent to {sent:,} recipients")
    if kind == "PostgreSQL":
        asyncio.run(vacuum(url))
    report(kind, filled, time.perf_counter() - started, folded, asyncio.run(measure(url, folder)))


async def holds(url: str, subscribers: int) -> bool:
    """Does the database at `url` hold a built list of this size?"""
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT count(*) FROM subscribers"))).scalar_one()
            return bool(found == subscribers)
    except Exception:  # no such database, or no tables yet
        return False
    finally:
        await engine.dispose()


async def postgresql_database(url: str, keep: bool, subscribers: int) -> str:
    """The bench's own database beside the one `url` names: the kept one of this size, or afresh."""
    from sqlalchemy import make_url

    kept = make_url(url).set(database="smsbot_bench_dashboard").render_as_string(hide_password=False)
    if keep and await holds(kept, subscribers):
        return kept
    return await fresh_postgresql(url, "smsbot_bench_dashboard")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--postgresql", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--keep", type=Path, help="build the SQLite file here and keep both lists for a rerun"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.subscribers:,} subscribers", flush=True)
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as name:
        folder = args.keep or Path(name)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "dashboard.db"
        sqlite = f"sqlite:///{path}"
        if args.keep is not None and path.exists() and not asyncio.run(holds(sqlite, args.subscribers)):
            path.unlink()  # a kept list of another size
        run(sqlite, folder, lambda: fill_sqlite(path, args.subscribers), path.exists())
        if args.postgresql:
            url = asyncio.run(postgresql_database(args.postgresql, args.keep is not None, args.subscribers))
            built = asyncio.run(holds(url, args.subscribers))
            run(url, folder, lambda: asyncio.run(fill_postgresql(url, args.subscribers)), built)


if __name__ == "__main__":
    main()
