"""Segments on store events: orders, money spent, checkouts without an order, products bought; the
same members on SQLite and PostgreSQL, matched on the phone, cancelled orders never counted."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.segments import Condition, OrderedProduct, PlacedOrder, Segment, Spent, StartedCheckout
from bot.program.loader import load_program
from bot.store import db
from bot.store.rows import new_subscriber
from bot.store.schema import store_events, subscribers
from bot.store.segments import count, where
from tests.conftest import KEYWORDS

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
ANA, BEN, CLEO, DAN = "+14155550101", "+14155550102", "+14155550103", "+14155550104"


def event(n: int, phone: str, kind: str, days_ago: float, **props: Any) -> dict[str, Any]:
    total = props.pop("total", None)
    return {
        "source": "api",
        "external_id": f"e{n}",
        "type": kind,
        "phone": phone,
        "subscriber_id": None,
        "order_ref": props.pop("ref", None),
        "value_minor": None if total is None else int(total * 100),
        "currency": props.pop("currency", "USD" if total is not None else None),
        "properties": props,
        "occurred_at": NOW - timedelta(days=days_ago),
        "received_at": NOW,
    }


TRAIL = [
    {"title": "Trail runner", "quantity": 1, "price": "129.95", "product_id": "632910392", "sku": "TR-10"}
]
SOCKS = [{"title": "Wool socks", "quantity": 3, "price": "12.00"}]
EVENTS = [
    event(1, ANA, "order_placed", 10, total=129.95, ref="o1", line_items=TRAIL),
    event(2, ANA, "order_placed", 200, total=400, ref="o2", line_items=SOCKS),
    event(3, BEN, "order_placed", 5, total=700, ref="o3", line_items=SOCKS),
    event(4, BEN, "order_cancelled", 4, ref="o3"),  # Ben's only order, cancelled
    event(5, BEN, "checkout_started", 3),
    event(6, CLEO, "checkout_started", 2),
    event(7, CLEO, "order_placed", 1, total=50, ref="o7", currency="EUR", line_items=SOCKS),
    event(8, DAN, "checkout_started", 20),
    event(9, "+14155550199", "order_placed", 1, total=999, ref="o9", line_items=TRAIL),  # not a subscriber
]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database_url)
    async with engine.begin() as conn:
        for phone in (ANA, BEN, CLEO, DAN):
            await conn.execute(
                subscribers.insert().values({**new_subscriber(phone, NOW), "status": "subscribed"})
            )
        await conn.execute(store_events.insert(), EVENTS)
    yield engine
    await engine.dispose()


async def members(engine: AsyncEngine, condition: Condition) -> set[str]:
    async with engine.connect() as conn:
        clause = where(condition, conn.dialect.name, {}, NOW)
        return set((await conn.execute(select(subscribers.c.phone).where(clause))).scalars())


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (PlacedOrder(), {ANA, CLEO}),  # Ben's one order was cancelled
        (PlacedOrder(at_least=2), {ANA}),
        (PlacedOrder(within_days=30), {ANA, CLEO}),
        (PlacedOrder(at_least=2, within_days=30), set()),
        (Spent("USD", over_minor=50_000), {ANA}),  # 529.95 in all
        (Spent("USD", over_minor=50_000, within_days=30), set()),
        (Spent("USD", under_minor=20_000, within_days=30), {ANA}),  # only customers who ordered
        (Spent("EUR", over_minor=1_000), {CLEO}),
        (StartedCheckout(within_days=7), {BEN}),  # Cleo ordered since; Dan's is too old
        (StartedCheckout(within_days=7, without_order=False), {BEN, CLEO}),
        (OrderedProduct("Trail runner"), {ANA}),
        (OrderedProduct("TR-10"), {ANA}),
        (OrderedProduct("632910392"), {ANA}),
        (OrderedProduct("Wool socks", within_days=30), {CLEO}),  # Ben's socks were cancelled
        (OrderedProduct("Sandals"), set()),
    ],
)
async def test_commerce_conditions_find_their_customers(
    engine: AsyncEngine, condition: Condition, expected: set[str]
) -> None:
    assert await members(engine, condition) == expected


async def test_the_shipped_commerce_segments_count(engine: AsyncEngine) -> None:
    program = load_program(KEYWORDS).program
    async with engine.connect() as conn:
        found = {
            name: (await conn.run_sync(count, program.segments[name], program.segments, NOW))[0]
            for name in (
                "customers",
                "repeat_customers",
                "big_spenders",
                "abandoned_cart_7_days",
                "trail_runner_owners",
            )
        }
    assert found == {
        "customers": 2,
        "repeat_customers": 1,  # Ana: two orders within the year
        "big_spenders": 1,  # Ana: 529.95
        "abandoned_cart_7_days": 1,
        "trail_runner_owners": 1,
    }


def test_a_segment_names_its_commerce_condition_for_the_api() -> None:
    from bot.domain.segments import describe

    assert describe(Segment("s", Spent("USD", over_minor=50_000)).condition) == {
        "kind": "spent",
        "currency": "USD",
        "over_minor": 50_000,
        "under_minor": None,
        "within_days": None,
    }
