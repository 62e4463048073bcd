"""`smsbot worker` as real processes: killed with SIGKILL mid-burst, Redis flushed, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import func, select

from bot.store.schema import flow_runs, messages
from tests.conftest import (
    ACCOUNT_SID,
    FROM_NUMBER,
    PUBLIC_URL,
    ROOT,
    TOKEN,
    ClientFactory,
    Phone,
    services_of,
)
from tests.fake_twilio import FakeTwilio

SUBSCRIBERS = 1000
RATE = 5000  # per second: the replies to 1,000 JOINs must not fill the bucket for minutes
BURST_FLOW = """
flows:
  welcome:
    steps:
      - send: "Acme Outfitters: Welcome!"
      - wait: 1s
      - send: "Acme Outfitters: step two"
      - send_vcard: acme
      - send: "Acme Outfitters: step three. Reply STOP to opt out."
"""
WORKER_STEPS = 3  # per subscriber, after the wait: two texts and the card


ALL_DAY = '{start: "00:00", end: "23:59:59"}'


def worker_config(
    tmp_path: Path, keywords: Path, api_url: str, rate: float = RATE, quiet: str = ALL_DAY, more: str = ""
) -> Path:
    """A worker's config: our number through `api_url` at `rate`, inside `quiet` (YAML) hours, and
    `more` (YAML sections of its own)."""
    config = tmp_path / "worker.yaml"
    config.write_text(
        f"""
keywords: {keywords}
server:
  public_url: {PUBLIC_URL}
sending:
  from_number: "{FROM_NUMBER}"
  api_url: {api_url}
  rate: {rate}
  lease: 2
  quiet_hours: {quiet}
log_level: INFO
{more}"""
    )
    return config


def worker_env(tmp_path: Path, database_url: str, redis_url: str, prefix: str) -> dict[str, str]:
    """A worker process's environment: the test's database, Redis and key prefix, our credentials."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SMSBOT_REDIS_PREFIX": prefix,
        "SMSBOT_DATA_DIR": str(tmp_path / "var"),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
    }


async def start_worker(config: Path, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("a") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "worker", "--config", str(config), env=env, cwd=ROOT, stderr=out
        )


async def outbox_counts(app: Any) -> tuple[int, int, int]:
    """(worker messages stored, of them not yet finished, runs still active)."""
    engine = services_of(app).engine
    async with engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).where(messages.c.run_id.is_not(None)))
        unfinished = await conn.scalar(
            select(func.count()).where(messages.c.status.in_(("pending", "dispatching")))
        )
        active = await conn.scalar(select(func.count()).where(flow_runs.c.status == "active"))
    return int(stored or 0), int(unfinished or 0), int(active or 0)


async def test_sigkill_of_a_worker_mid_burst_and_a_redis_flush_send_every_step_exactly_once(
    tmp_path: Path,
    keywords_copy: Path,
    make_client: ClientFactory,
    twilio_api: tuple[FakeTwilio, str],
    database_url: str,
    redis_url: str,
) -> None:
    api, api_url = twilio_api
    (keywords_copy / "flows.yaml").write_text(BURST_FLOW)
    app = await make_client(public_url=PUBLIC_URL, keywords_dir=keywords_copy, send_rate=RATE)
    prefix = services_of(app).settings.redis_prefix
    numbers = [f"+1415555{n:04d}" for n in range(SUBSCRIBERS)]
    for chunk in range(0, SUBSCRIBERS, 50):  # a burst of JOINs; each starts the welcome flow
        await asyncio.gather(*(Phone(app, n).text("JOIN") for n in numbers[chunk : chunk + 50]))

    config = worker_config(tmp_path, keywords_copy, api_url)
    env = worker_env(tmp_path, database_url, redis_url, prefix)
    log = tmp_path / "workers.log"
    expected = SUBSCRIBERS * WORKER_STEPS
    first = await start_worker(config, env, log)
    workers = [first]
    try:
        await wait_until(lambda: len(api.accepted()) >= expected // 4, app, log)
        api.answering.clear()  # what is in flight now is taken by the API and never answered
        held = len(api.accepted())
        await wait_until(lambda: len(api.accepted()) > held, app, log)
        first.send_signal(signal.SIGKILL)  # dead with messages the carrier took but no row knows of
        await first.wait()
        api.answering.set()
        killed_at = len(api.accepted())
        assert killed_at < expected, "the kill came after the burst: nothing was tested"
        async with aioredis.from_url(redis_url) as client:
            await client.flushdb()  # the queue, the leases and the rate buckets: all gone

        workers = [await start_worker(config, env, log) for _ in range(2)]  # two, racing each other
        for _ in range(1200):
            stored, unfinished, active = await outbox_counts(app)
            if stored == expected and unfinished == 0 and active == 0:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"not drained: {await outbox_counts(app)}\n{log.read_text()}")
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
                await worker.wait()

    handed = [(m["to"], m["body"], tuple(m["media_urls"])) for m in api.accepted()]
    twice = [step for step, count in Counter(handed).items() if count > 1]
    assert twice == [] and len(handed) == expected
    assert set(handed) == {
        (number, body, media)
        for number in numbers
        for body, media in [
            ("Acme Outfitters: step two", ()),
            ("", (f"{PUBLIC_URL}/vcards/acme.vcf",)),
            ("Acme Outfitters: step three. Reply STOP to opt out.", ()),
        ]
    }
    engine = services_of(app).engine
    async with engine.connect() as conn:
        sids = list(await conn.scalars(select(messages.c.sid).where(messages.c.run_id.is_not(None))))
    assert sorted(sids) == sorted(m["sid"] for m in api.accepted())  # every row knows its message
    assert all(w.returncode == 0 for w in workers[-2:])
    assert "had reached the carrier before a crash: not sent again" in log.read_text()


async def wait_until(condition: Callable[[], bool], app: Any, log: Path) -> None:
    for _ in range(3000):  # 30 s
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"stuck at {await outbox_counts(app)}\n{await asyncio.to_thread(log.read_text)}")


CAMPAIGN = """
campaigns:
  flash_sale:
    segment: all_subscribers
    message: 'Acme: flash sale {{ link("https://acme.example/flash") }} Reply STOP to opt out'
    smart_sending: false
"""


async def test_sigkill_mid_campaign_and_a_redis_flush_send_each_recipient_exactly_once(
    tmp_path: Path,
    keywords_copy: Path,
    make_client: ClientFactory,
    twilio_api: tuple[FakeTwilio, str],
    database_url: str,
    redis_url: str,
) -> None:
    from datetime import UTC, datetime

    from bot.pipeline.campaigns import start
    from bot.store.db import WriteTransactions
    from bot.store.rows import new_subscriber
    from bot.store.schema import subscribers

    api, api_url = twilio_api
    (keywords_copy / "campaigns.yaml").write_text(CAMPAIGN)
    app = await make_client(public_url=PUBLIC_URL, keywords_dir=keywords_copy, send_rate=RATE)
    services = services_of(app)
    now = datetime.now(UTC)
    numbers = [f"+1415555{n:04d}" for n in range(SUBSCRIBERS)]
    async with services.engine.begin() as conn:
        await conn.execute(
            subscribers.insert(),
            [{**new_subscriber(n, now), "status": "subscribed", "subscribed_at": now} for n in numbers],
        )
    program = services.program.current
    writes = WriteTransactions(services.engine, database_url, name="test-db")
    try:
        started = await writes.run(
            start, program.campaigns["flash_sale"], program, services.settings.quiet_hours, now, "test"
        )
    finally:
        writes.close()
    assert started.audience == SUBSCRIBERS

    config = worker_config(tmp_path, keywords_copy, api_url)
    env = worker_env(tmp_path, database_url, redis_url, services.settings.redis_prefix)
    log = tmp_path / "workers.log"
    first = await start_worker(config, env, log)
    workers = [first]
    try:
        await wait_until(lambda: len(api.accepted()) >= SUBSCRIBERS // 4, app, log)
        api.answering.clear()  # in flight now: taken by the carrier, never answered
        held = len(api.accepted())
        await wait_until(lambda: len(api.accepted()) > held, app, log)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        api.answering.set()
        assert len(api.accepted()) < SUBSCRIBERS, "the kill came after the campaign: nothing was tested"
        async with aioredis.from_url(redis_url) as client:
            await client.flushdb()
        workers = [await start_worker(config, env, log) for _ in range(2)]
        for _ in range(1200):
            if await campaign_done(app):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"campaign not drained\n{log.read_text()}")
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
                await worker.wait()

    sent_to = Counter(m["to"] for m in api.accepted() if "flash sale" in m["body"])
    assert [n for n, times in sent_to.items() if times > 1] == []
    assert set(sent_to) == set(numbers)


async def campaign_done(app: Any) -> bool:
    from bot.store.schema import campaign_recipients

    async with services_of(app).engine.connect() as conn:
        waiting = await conn.scalar(
            select(func.count()).where(messages.c.status.in_(("pending", "dispatching")))
        )
        unqueued = await conn.scalar(select(func.count()).where(campaign_recipients.c.status == "pending"))
    return waiting == 0 and unqueued == 0
