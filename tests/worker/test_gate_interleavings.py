"""Random interleavings of what shoppers, a store and a marketer do, checked at the carrier.

Hypothesis draws scenarios (a fixed seed, so a failure repeats): sign-ups and their Y, JOIN, STOP,
START, checkouts, orders, shipments, campaign sends, pauses, resumes and cancels, hours passing
through quiet hours, and worker restarts (with Redis emptied). Each runs against the real app and
database, a worker on a clock we move, and the local stand-in for Twilio's REST API. After every
step, each message the carrier accepted is checked against what the gate allows at that moment:

- nobody gets a message their status refuses (nothing after STOP; marketing only to subscribers);
- no marketing inside quiet hours, and no campaign text within a day of another marketing text;
- no cart reminder after the order that followed the checkout;
- each order's confirmation and each shipment's news at most once, and exactly once for someone
  subscribed from the event to the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.dashboard.signup import COOKIE
from bot.domain.gate import REACHES, Purpose
from bot.domain.quiet_hours import QuietHours
from bot.domain.subscription import Status
from bot.store.schema import messages, metadata, subscribers
from tests.conftest import ADMIN, ClientFactory, Phone, services_of
from tests.fake_twilio import FakeTwilio
from tests.worker.carrier import EVENTS_TOKEN
from tests.worker.conftest import Clock, WorkerFactory, sending_app
from tests.worker.test_gate_at_the_carrier import TWO_CAMPAIGNS

SCENARIOS = 40
PEOPLE = ("+14155550101", "+447700900123")  # San Francisco, London
QUIET = QuietHours()  # 08:00-21:00 where the number is
DAY = timedelta(hours=24)

Step = tuple[str, int]  # (what happens, to whom / which campaign / how many minutes)
SHOPPERS = ["join", "signup", "confirm", "stop", "start", *["checkout"] * 3, *["order"] * 3, "fulfil"]
MARKETER = ["send", "send", "pause", "resume", "cancel"]
step = st.one_of(
    st.tuples(st.sampled_from(SHOPPERS), st.integers(0, len(PEOPLE) - 1)),
    st.tuples(st.sampled_from(MARKETER), st.integers(1, 2)),
    st.tuples(st.just("later"), st.sampled_from([1, 20, 70, 180, 600, 1500])),
    st.tuples(st.just("restart"), st.just(0)),
)
# Both shoppers subscribed first (any of them may leave and come back), then anything in any order.
steps = st.lists(step, min_size=10, max_size=30).map(lambda drawn: [("join", 0), ("join", 1), *drawn])


def scenarios() -> list[list[Step]]:
    found: list[list[Step]] = []

    @seed(20261206)
    @settings(max_examples=SCENARIOS, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(steps)
    def draw(example: list[Step]) -> None:
        found.append(example)

    draw()
    return found


@dataclass
class Handed:
    phone: str
    body: str
    at: datetime  # the worker's clock when it went
    purpose: str
    campaign: bool


@dataclass
class World:
    """What the scenario did so far, and what the carrier took, as the invariants read it."""

    app: Any
    api: FakeTwilio
    clock: Clock
    handed: list[Handed] = field(default_factory=list)
    orders: dict[str, tuple[str, bool]] = field(default_factory=dict)  # "#2401" -> (phone, still owed)
    shipments: dict[str, tuple[str, bool]] = field(default_factory=dict)
    last_checkout: dict[str, int] = field(default_factory=dict)  # phone -> step of their last checkout
    last_order: dict[str, int] = field(default_factory=dict)
    seen: int = 0  # messages of api.accepted() already checked
    n: int = 0  # events made

    async def status(self, phone: str) -> Status:
        async with services_of(self.app).engine.connect() as conn:
            found = await conn.scalar(select(subscribers.c.status).where(subscribers.c.phone == phone))
        return Status(found or "new")


async def reset(app: Any, api: FakeTwilio) -> None:
    """Nothing left of the scenario before: every table emptied, Redis's keys gone, the carrier's log."""
    running = services_of(app)
    async with running.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))
    async for key in running.redis.scan_iter(match=f"{running.settings.redis_prefix}*"):
        await running.redis.delete(key)
    api.created.clear()
    api.received.clear()


async def act(world: World, step: Step, index: int, worker: Any, make: Any) -> Any:
    kind, who = step
    phone = PEOPLE[who % len(PEOPLE)]
    carrier = Phone(world.app, phone, token=_token(world.app), public_url=_public(world.app))
    if kind in ("join", "confirm", "stop", "start"):
        word = {"join": "JOIN", "confirm": "Y", "stop": "STOP", "start": "START"}[kind]
        await carrier.text(word)
        if kind == "stop":
            _stopped(world, phone)
    elif kind == "signup":
        await _sign_up(world.app, phone)
    elif kind in ("checkout", "order", "fulfil"):
        await _store_event(world, kind, phone, index)
    elif kind in ("send", "pause", "resume", "cancel"):
        body = {"again": True} if kind == "send" else None
        await world.app.post(f"/api/campaigns/c{who}/{kind}", json=body, headers=ADMIN)
    elif kind == "later":
        world.clock.advance(minutes=who)
    elif kind == "restart":
        await _empty_redis(world.app)
        return make(world.clock, quiet_hours=QUIET)
    return worker


def _token(app: Any) -> str:
    return str(services_of(app).settings.twilio_auth_token)


def _public(app: Any) -> str:
    return str(services_of(app).settings.public_url)


def _stopped(world: World, phone: str) -> None:
    """After STOP, nothing the store asked for is owed to them any more."""
    for book in (world.orders, world.shipments):
        for name, (owner, _) in book.items():
            if owner == phone:
                book[name] = (owner, False)


async def _empty_redis(app: Any) -> None:
    running = services_of(app)
    async for key in running.redis.scan_iter(match=f"{running.settings.redis_prefix}*"):
        await running.redis.delete(key)


async def _sign_up(app: Any, phone: str) -> None:
    page = await app.get("/join/spring")
    token = re.search(r'name="token" value="([^"]+)"', await page.text())
    assert token is not None
    form = {"token": token.group(1), "phone": phone, "consent": "yes"}
    await app.post("/join/spring", data=form, headers={"Cookie": f"{COOKIE}={token.group(1)}"})


async def _store_event(world: World, kind: str, phone: str, index: int) -> None:
    world.n += 1
    n, now = world.n, datetime.now(UTC)
    properties: dict[str, Any] = {"currency": "USD"}
    if kind == "checkout":
        kind = "checkout_started"
        properties |= {
            "checkout_id": f"c{n}",
            "total_price": "50",
            "abandoned_checkout_url": "https://a.example/c",
        }
        world.last_checkout[phone] = index
    elif kind == "order":
        kind = "order_placed"
        properties |= {"order_id": f"o{n}", "order_name": f"#{2400 + n}", "total_price": "40"}
        world.last_order[phone] = index
        owed = await world.status(phone) is Status.SUBSCRIBED
        world.orders[f"#{2400 + n}"] = (phone, owed)
    else:
        kind = "order_fulfilled"
        properties |= {"order_id": f"o{n}", "order_name": f"#{2400 + n}"}
        owed = await world.status(phone) is Status.SUBSCRIBED
        world.shipments[f"#{2400 + n}"] = (phone, owed)
    event = {
        "id": f"e{n}",
        "phone": phone,
        "type": kind,
        "occurred_at": now.isoformat(),
        "properties": properties,
    }
    headers = {"Authorization": f"Bearer {EVENTS_TOKEN}"}
    answer = await world.app.post("/api/events", json={"events": [event]}, headers=headers)
    assert answer.status == 200, await answer.text()


async def drain(world: World, worker: Any, index: int, ticks: int = 4) -> None:
    """The worker's turns (a second apart on its clock), each hand-over checked as it happens."""
    for _ in range(ticks):
        world.clock.advance(seconds=1)
        await worker.tick()
        await check_new(world, index)


async def check_new(world: World, index: int) -> None:
    accepted = world.api.accepted()[world.seen :]
    world.seen += len(accepted)
    for message in accepted:
        async with services_of(world.app).engine.connect() as conn:
            row = (await conn.execute(select(messages).where(messages.c.sid == message["sid"]))).one()
        handed = Handed(
            message["to"], message["body"], world.clock(), row.purpose, row.campaign_id is not None
        )
        await _allowed(world, handed, index)
        world.handed.append(handed)


async def _allowed(world: World, handed: Handed, index: int) -> None:
    status = await world.status(handed.phone)
    purpose = Purpose(handed.purpose)
    assert status in REACHES[purpose], (handed, status)
    if purpose is Purpose.MARKETING:
        assert QUIET.allows(handed.at, handed.phone), ("inside quiet hours", handed)
    if handed.campaign:
        earlier = [h for h in world.handed if h.phone == handed.phone and h.purpose == Purpose.MARKETING]
        close = [(h.body[:30], h.at.isoformat()) for h in earlier if handed.at - h.at < DAY]
        assert not close, ("within smart sending", handed.body[:30], handed.at.isoformat(), close)
    if "cart" in handed.body:
        assert world.last_order.get(handed.phone, -1) < world.last_checkout.get(handed.phone, -1), (
            "a cart reminder after the order",
            handed,
        )


def settle(world: World) -> None:
    """Each order confirmed and each shipment told at most once; exactly once if still owed."""
    for book, said in ((world.orders, "thanks for your order"), (world.shipments, "on its way")):
        for name, (phone, owed) in book.items():
            times = sum(1 for h in world.handed if h.phone == phone and said in h.body and name in h.body)
            assert times <= 1, (name, times)
            assert times == 1 or not owed, (name, "owed, never sent", world.handed)


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str], keywords_copy: Path) -> Any:
    (keywords_copy / "campaigns.yaml").write_text(TWO_CAMPAIGNS)
    return await sending_app(
        make_client,
        twilio_api,
        100.0,
        events_token=EVENTS_TOKEN,
        keywords_dir=keywords_copy,
    )


async def test_random_interleavings_never_reach_anyone_the_gate_would_refuse(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    for scenario in scenarios():
        await reset(app, api)
        clock = Clock(datetime.now(UTC))
        world = World(app, api, clock)
        worker = make_worker(clock, quiet_hours=QUIET)
        for index, step in enumerate(scenario):
            worker = await act(world, step, index, worker, make_worker)
            await drain(world, worker, index)
        for _ in range(12):  # a day and more passes: whatever was held goes, or never does
            world.clock.advance(hours=2)
            await drain(world, worker, len(scenario))
        settle(world)
