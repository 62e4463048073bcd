"""The shipped date and delayed automations at the carrier: a birthday at ten in the subscriber's
zone, once a year (29 February on the 28th); a win-back 60 days after the last order, put off by a
new one; a review request a week after delivery. The worker sends through the local Twilio API on
a clock we move, never by sleeping (forward from now: the webhook charges the sending rate on the
real clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.store.schema import subscribers
from tests.conftest import ClientFactory, services_of
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import Clock, WorkerFactory, sending_app
from tests.worker.test_automations import EVENTS_TOKEN, join, order, send_events

ANA, BEN = "+14155550101", "+14155550102"  # San Francisco numbers: Los Angeles time
LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str]) -> Any:
    return await sending_app(make_client, twilio_api, 100.0, events_token=EVENTS_TOKEN)


async def born(app: Any, phone: str, birthday: str) -> None:
    """Their birthday as the welcome flow stores it ("--04-23")."""
    async with services_of(app).engine.begin() as conn:
        await conn.execute(
            update(subscribers).where(subscribers.c.phone == phone).values(properties={"birthday": birthday})
        )


async def at(worker: Any, clock: Clock, when: datetime) -> None:
    """The clock jumps to `when`; the worker takes a few rounds there."""
    clock.at = when.astimezone(UTC)
    for _ in range(3):
        for _ in range(3):
            await worker.tick()
        clock.advance(seconds=20)


def texts(api: FakeTwilio, containing: str, phone: str = ANA) -> list[str]:
    return [m["body"] for m in api.accepted() if m["to"] == phone and containing in m["body"]]


async def test_a_birthday_treat_comes_at_ten_in_their_zone_once_a_year(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA, BEN)
    await born(app, ANA, "--12-06")
    await born(app, BEN, "--02-29")
    clock = Clock(datetime(2031, 12, 6, 7, 0, tzinfo=LA).astimezone(UTC))
    worker = make_worker(clock)
    await at(worker, clock, datetime(2031, 12, 6, 7, 0, tzinfo=LA))
    assert texts(api, "Happy birthday") == []  # her day, but not ten yet
    await at(worker, clock, datetime(2031, 12, 6, 10, 1, tzinfo=LA))
    assert texts(api, "Happy birthday") == [
        "Acme Outfitters: Happy birthday! Take 20% off anything this week with code BDAY20. Reply STOP to opt out"
    ]
    await at(worker, clock, datetime(2031, 12, 6, 15, 0, tzinfo=LA))  # the worker looks again: no second
    await at(worker, clock, datetime(2031, 12, 7, 10, 1, tzinfo=LA))
    assert len(texts(api, "Happy birthday")) == 1
    await at(worker, clock, datetime(2033, 2, 28, 10, 1, tzinfo=LA))  # 2033 has no 29 February
    assert len(texts(api, "Happy birthday", BEN)) == 1
    await at(worker, clock, datetime(2033, 12, 6, 10, 1, tzinfo=LA))  # another year: again
    assert len(texts(api, "Happy birthday")) == 2


async def test_a_win_back_comes_60_days_after_the_last_order_and_a_new_order_puts_it_off(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    first = datetime.now(UTC)
    clock = Clock(first)
    worker = make_worker(clock)
    await send_events(app, order(1, ANA, first))
    await at(worker, clock, first + timedelta(days=30))
    await send_events(app, order(2, ANA, first + timedelta(days=30)))  # stored as from 30 days on
    await at(worker, clock, first + timedelta(days=60, minutes=5))
    assert texts(api, "we miss you") == []  # counted from the second order now
    await at(worker, clock, first + timedelta(days=90, minutes=5))
    assert len(texts(api, "we miss you")) == 1
    await at(worker, clock, first + timedelta(days=200))
    assert len(texts(api, "we miss you")) == 1  # once per order that went unanswered


async def test_a_review_is_asked_a_week_after_the_order_ships(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    shipped = datetime.now(UTC)
    clock = Clock(shipped)
    worker = make_worker(clock)
    fulfilled = {**order(1, ANA, shipped), "id": "ful-1", "type": "order_fulfilled"}
    await send_events(app, fulfilled)
    await at(worker, clock, shipped + timedelta(days=6, hours=23))
    assert texts(api, "A quick review") == []
    await at(worker, clock, shipped + timedelta(days=7, minutes=5))
    [asked] = texts(api, "A quick review")
    assert "your order #1001?" in asked
