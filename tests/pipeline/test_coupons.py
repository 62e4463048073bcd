"""Coupon codes on the real database: one code to one person whatever the concurrency, the same
code again for the same campaign, a message whose pool is empty held back whole, codes redeemed by
the order that names them."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.coupons import PoolEmpty, mark
from bot.pipeline import coupons
from bot.pipeline.coupons import CouponDesk, For
from bot.store import db
from bot.store.rows import new_subscriber
from bot.store.schema import coupon_codes, subscribers

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
PEOPLE = 12


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            insert(subscribers),
            [{**new_subscriber(f"+1415555{n:04d}", NOW), "status": "subscribed"} for n in range(PEOPLE)],
        )
    yield engine
    await engine.dispose()


async def load(engine: AsyncEngine, pool: str, codes: list[str]) -> coupons.Loaded:
    async with engine.begin() as conn:
        return await conn.run_sync(coupons.load, pool, codes, NOW)


async def ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(subscribers.c.id).order_by(subscribers.c.id))).scalars())


def give(conn: object, body: str, whom: For) -> str:
    return CouponDesk(conn, NOW).swap(body, whom)  # type: ignore[arg-type]


async def test_loading_a_file_twice_adds_nothing_the_second_time(engine: AsyncEngine) -> None:
    assert await load(engine, "sale", ["A1", "A2", "A3"]) == coupons.Loaded(3, 0)
    assert await load(engine, "sale", ["A2", "A3", "A4"]) == coupons.Loaded(1, 2)
    async with engine.connect() as conn:
        counted = await conn.run_sync(coupons.counts, ["sale", "other"])
    assert counted["sale"] == coupons.PoolCount("sale", 4, 0, 0)
    assert counted["other"].left == 0


async def test_the_same_campaign_writing_to_someone_again_gives_them_the_same_code(
    engine: AsyncEngine,
) -> None:
    await load(engine, "sale", ["A1", "A2"])
    [ana, ben, *_] = await ids(engine)
    body = f"Your code {mark('sale')} ends Sunday"
    async with engine.begin() as conn:
        first = await conn.run_sync(give, body, For(ana, "campaign:winter", "c1.1"))
    async with engine.begin() as conn:
        again = await conn.run_sync(give, body, For(ana, "campaign:winter", "c1.2"))
        other = await conn.run_sync(give, body, For(ben, "campaign:winter", "c1.3"))
    assert first == again == "Your code A1 ends Sunday"
    assert other == "Your code A2 ends Sunday"


async def test_an_empty_pool_holds_the_message_back_and_gives_back_what_it_took_from_another(
    engine: AsyncEngine,
) -> None:
    await load(engine, "ten", ["T1"])
    [ana, *_] = await ids(engine)
    body = f"{mark('ten')} and {mark('empty')}"
    async with engine.begin() as conn:
        with pytest.raises(PoolEmpty) as held:
            await conn.run_sync(give, body, For(ana, "flow:welcome", "r1"))
    assert held.value.pool == "empty"
    async with engine.connect() as conn:
        counted = await conn.run_sync(coupons.counts, ["ten"])
    assert counted["ten"].given == 0  # T1 is free again


async def test_concurrent_writers_never_give_one_code_to_two_people(
    engine: AsyncEngine, database_url: str
) -> None:
    """Each of twelve transactions gives a code to its own person before any commits; eight codes:
    eight people get one each, all different, and four are told the pool is empty."""
    codes = [f"C{n}" for n in range(8)]
    await load(engine, "sale", codes)
    people = await ids(engine)

    async def one(person: int) -> str | None:
        async with engine.connect() as conn:
            await conn.begin()
            try:
                body = await conn.run_sync(give, mark("sale"), For(person, "campaign:winter", f"c.{person}"))
            except PoolEmpty:
                return None
            await asyncio.sleep(0.05)  # hold the transaction open while the others take theirs
            await conn.commit()
            return body

    if database_url.startswith("postgresql"):
        given = await asyncio.gather(*(one(person) for person in people))
    else:  # SQLite: one writer at a time (the app's writers take turns by a lock)
        given = [await one(person) for person in people]
    got = [code for code in given if code is not None]
    assert sorted(got) == sorted(codes)  # every code once: none twice, none lost
    assert given.count(None) == PEOPLE - len(codes)
    async with engine.connect() as conn:
        holders = (await conn.execute(select(coupon_codes.c.subscriber_id))).scalars().all()
    assert len(set(holders)) == len(codes)


async def test_the_database_refuses_a_code_twice_in_a_pool_and_a_second_code_for_one_message(
    engine: AsyncEngine,
) -> None:
    await load(engine, "sale", ["A1", "A2"])
    [ana, *_] = await ids(engine)
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(coupon_codes).values(pool="sale", code="A1", loaded_at=NOW))
    given = {"subscriber_id": ana, "origin": "campaign", "origin_name": "winter", "assigned_at": NOW}
    async with engine.begin() as conn:
        await conn.execute(update(coupon_codes).where(coupon_codes.c.code == "A1").values(given))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(update(coupon_codes).where(coupon_codes.c.code == "A2").values(given))


async def test_an_order_naming_a_code_redeems_it_once_whatever_its_case(engine: AsyncEngine) -> None:
    await load(engine, "sale", ["WINTER-7KQ2", "WINTER-9XP1"])
    [ana, *_] = await ids(engine)
    async with engine.begin() as conn:
        await conn.run_sync(give, mark("sale"), For(ana, "campaign:winter", "c1", campaign_id=7))
        shopify = {"discount_codes": [{"code": "winter-7kq2", "amount": "10.00", "type": "percentage"}]}
        assert await conn.run_sync(coupons.redeem, [("1001", shopify)], NOW + timedelta(days=1)) == 1
        again = {"discount_codes": ["WINTER-7KQ2"]}
        assert await conn.run_sync(coupons.redeem, [("1002", again)], NOW + timedelta(days=2)) == 0
    async with engine.connect() as conn:
        found = (
            await conn.execute(select(coupon_codes.c.order_ref).where(coupon_codes.c.code == "WINTER-7KQ2"))
        ).one()
        tally = await conn.run_sync(coupons.tally, coupons.of_campaign(7))
    assert found.order_ref == "1001"
    assert tally == {"coupons": {"given": 1, "redeemed": 1, "redemption_rate": 1.0}}
