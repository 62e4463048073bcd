"""10,000 checkouts through the API, 30% of them ordering within the hour: exactly the others' subscribed
shoppers get the cart reminder, once, none after an order, none to anyone not subscribed; a second
checkout within 48 hours gets none; each order placed after tapping the reminder is credited to it."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import insert, select

from bot.store.rows import new_subscriber
from bot.store.schema import conversions, messages, subscribers
from tests.conftest import PUBLIC_URL, ClientFactory, services_of
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import Clock, WorkerFactory, sending_app
from tests.worker.test_automations import EVENTS_TOKEN, checkout, order, reminders, send_events

CHECKOUTS = 10_000
SUBSCRIBED, UNSUBSCRIBED = range(9_000), range(9_000, 9_500)  # the last 500 are customers only
TAPPED = 300  # reminder recipients who tap it and then order


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str]) -> Any:
    # A rate high enough that the moved clock, not the bucket, paces the sending.
    return await sending_app(make_client, twilio_api, 100_000.0, events_token=EVENTS_TOKEN)


def phone(n: int) -> str:
    return f"+1415{2_000_000 + n:07d}"


async def seed(app: Any, now: datetime) -> None:
    async with services_of(app).engine.begin() as conn:
        rows = [
            {**new_subscriber(phone(n), now), "status": "subscribed" if n in SUBSCRIBED else "unsubscribed"}
            for n in (*SUBSCRIBED, *UNSUBSCRIBED)
        ]
        for start in range(0, len(rows), 2_000):
            await conn.execute(insert(subscribers), rows[start : start + 2_000])


async def in_batches(app: Any, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 1_000):
        await send_events(app, *events[start : start + 1_000])


async def run_until(worker: Any, clock: Clock, until: datetime) -> None:
    while clock.at < until:
        clock.advance(minutes=5)
        while (await worker.tick()).stepped:
            pass
        while (await worker.tick()).sent:
            pass


async def test_ten_thousand_checkouts_thirty_percent_ordering_within_the_hour(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    chance = random.Random(7)
    t0 = datetime.now(UTC)
    clock = Clock(t0)
    worker = make_worker(clock)
    worker.batch = 1_000
    await seed(app, t0)
    await in_batches(app, [checkout(n, phone(n), t0) for n in range(CHECKOUTS)])
    ordered = set(chance.sample(range(CHECKOUTS), CHECKOUTS * 3 // 10))
    await run_until(worker, clock, t0 + timedelta(minutes=30))
    orders = [order(n, phone(n), t0 + timedelta(minutes=chance.randint(1, 59))) for n in sorted(ordered)]
    await in_batches(app, orders)
    await run_until(worker, clock, t0 + timedelta(hours=2))
    again = chance.sample([n for n in SUBSCRIBED if n not in ordered], 500)
    await in_batches(app, [checkout(CHECKOUTS + n, phone(n), clock.at) for n in again])
    await run_until(worker, clock, t0 + timedelta(hours=4))

    got = Counter(m["to"] for m in reminders(api))
    assert set(got) == {phone(n) for n in SUBSCRIBED if n not in ordered}
    assert set(got.values()) == {1}  # none twice, the second checkouts included

    tapped = chance.sample(sorted(got), TAPPED)
    links = {
        m["to"]: next(w for w in m["body"].split() if w.startswith(f"{PUBLIC_URL}/l/"))
        for m in reminders(api)
    }
    for number in tapped:
        tap = await app.get(
            urlsplit(links[number]).path, allow_redirects=False, headers={"User-Agent": "Mozilla/5.0"}
        )
        assert tap.status == 302
    writer = services_of(app).services.writer
    assert writer is not None
    await writer.probe()
    later = datetime.now(UTC) + timedelta(seconds=1)
    await in_batches(
        app, [{**order(20_000 + n, number, later), "id": f"late-{n}"} for n, number in enumerate(tapped)]
    )
    async with services_of(app).engine.connect() as conn:
        credited = (
            await conn.execute(
                select(subscribers.c.phone, conversions.c.via, conversions.c.origin_name, messages.c.body)
                .join(subscribers, subscribers.c.id == conversions.c.subscriber_id)
                .join(messages, messages.c.id == conversions.c.message_id)
                .where(conversions.c.via == "click")
            )
        ).all()
    assert sorted(c.phone for c in credited) == sorted(tapped)
    assert {(c.via, c.origin_name) for c in credited} == {("click", "abandoned_checkout")}
    assert all("still in your cart" in c.body for c in credited)
