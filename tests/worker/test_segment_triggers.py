"""`trigger: {enters: vip}` at the carrier: someone who newly matches the segment gets the flow at
the worker's next look; whoever was in it when the automation came is not texted for it. The worker
sends through the local Twilio API on a clock we move."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.store.rows import new_subscriber
from bot.store.schema import subscribers
from bot.worker.loop import DATES_EVERY
from tests.conftest import ADMIN, ClientFactory, services_of
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import Clock, WorkerFactory, sending_app

VIP_WELCOME = """
flows:
  vip_welcome:
    trigger: {enters: vip}
    steps:
      - send: 'Acme Outfitters: welcome to VIP! Early access starts Friday. Reply STOP to opt out'
"""
ANA, BEN, CY, DAN = "+14155550101", "+14155550102", "+14155550103", "+14155550104"


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str], keywords_copy: Path) -> Any:
    (keywords_copy / "vip.yaml").write_text(VIP_WELCOME)
    app = await sending_app(make_client, twilio_api, 100.0, keywords_dir=keywords_copy)
    now = datetime.now(UTC)
    async with services_of(app).engine.begin() as conn:
        await conn.execute(
            subscribers.insert(),
            [
                {**new_subscriber(ANA, now), "status": "subscribed", "properties": {"vip": True}},
                {**new_subscriber(BEN, now), "status": "subscribed", "properties": {}},
            ],
        )
    return app


async def vip(app: Any, phone: str) -> None:
    async with services_of(app).engine.begin() as conn:
        await conn.execute(
            update(subscribers).where(subscribers.c.phone == phone).values(properties={"vip": True})
        )


async def looks(worker: Any, clock: Clock, minutes: float) -> None:
    """The clock moves on by `minutes`; the worker takes a few rounds there."""
    clock.advance(minutes=minutes)
    for _ in range(4):
        clock.advance(seconds=1)
        await worker.tick()


def welcomed(api: FakeTwilio) -> list[str]:
    return [m["to"] for m in api.accepted() if "welcome to VIP" in m["body"]]


async def test_someone_who_becomes_vip_is_welcomed_and_those_already_vip_are_not(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    slot = DATES_EVERY  # the worker looks once in each such slot of the clock
    clock = Clock(datetime.fromtimestamp((datetime.now(UTC).timestamp() // slot + 1) * slot, UTC))
    worker = make_worker(clock)
    await looks(worker, clock, 0)  # the first look: Ana is in it already
    await vip(app, BEN)
    await looks(worker, clock, 5)
    assert welcomed(api) == []  # not before the next look (every 10 minutes)
    await looks(worker, clock, 6)
    assert welcomed(api) == [BEN]
    await looks(worker, clock, 60)
    assert welcomed(api) == [BEN]  # once, however often the worker looks


async def test_a_list_that_brings_people_into_the_segment_texts_none_of_them(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    """An import texts nobody: neither a new number imported as VIP nor Ben made VIP by the list
    filling in his empty property is welcomed; someone who becomes VIP afterwards still is."""
    slot = DATES_EVERY
    clock = Clock(datetime.fromtimestamp((datetime.now(UTC).timestamp() // slot + 1) * slot, UTC))
    worker = make_worker(clock)
    await looks(worker, clock, 0)  # the first look: Ana is in it already
    listing = (
        f"phone,status,consented_at,vip\n{CY},subscribed,2025-03-01T10:00:00Z,yes\n{BEN},subscribed,,yes\n"
    )
    listing += f"{DAN},subscribed,2025-03-01T10:00:00Z,\n"
    answer = await app.post(
        "/api/subscribers/import", params={"name": "vip.csv"}, data=listing, headers=ADMIN
    )
    assert answer.status == 200, await answer.text()
    assert ((await answer.json())["created"], (await answer.json())["filled"]) == (2, 1)
    await looks(worker, clock, 11)
    assert welcomed(api) == []
    await vip(app, DAN)
    await looks(worker, clock, 11)
    assert welcomed(api) == [DAN]
