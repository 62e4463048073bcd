"""Store events stored once, tied to their subscriber, and each order credited to the message that
earned it (the last clicked within 5 days, else the last received within 24 hours), on the real
database."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.attribution import Windows
from bot.domain.store_events import StoreEvent
from bot.pipeline.store_events import Recorded, record_batches, record_events
from bot.store import db
from bot.store.rows import link, new_subscriber
from bot.store.schema import (
    campaigns,
    clicks,
    conversions,
    flow_runs,
    links,
    messages,
    store_events,
    subscribers,
)

ORDER_AT = datetime(2026, 11, 26, 15, tzinfo=UTC)
ANA, BEN = "+14155550101", "+14155550102"
DEFAULTS = Windows()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database_url)
    async with engine.begin() as conn:
        for phone in (ANA, BEN):
            row = {
                **new_subscriber(phone, ORDER_AT - timedelta(days=30)),
                "status": "subscribed",
                "opt_in_source": "JOIN",
            }
            await conn.execute(insert(subscribers).values(row))
        await conn.execute(
            insert(campaigns).values(
                name="black_friday",
                round=1,
                status="finished",
                fingerprint="f",
                definition={},
                audience=2,
                started_by="cli",
                started_at=ORDER_AT - timedelta(days=10),
                updated_at=ORDER_AT,
            )
        )
        await conn.execute(
            insert(flow_runs).values(
                subscriber_id=1,
                flow="welcome",
                status="ended",
                step=1,
                waiting=False,
                asked_again=False,
                started_at=ORDER_AT - timedelta(days=10),
                updated_at=ORDER_AT,
            )
        )
    yield engine
    await engine.dispose()


async def sent(
    engine: AsyncEngine,
    ref: str,
    ago: timedelta,
    *,
    campaign: bool = True,
    status: str = "delivered",
    to: int = 1,
) -> None:
    """A campaign's (or the welcome flow's) message handed over `ago` before the order."""
    at = ORDER_AT - ago
    async with engine.begin() as conn:
        await conn.execute(
            insert(messages).values(
                subscriber_id=to,
                direction="outbound",
                body="20% off",
                media_urls=[],
                ref=ref,
                status=status,
                created_at=at,
                updated_at=at,
                handed_at=at,
                campaign_id=1 if campaign else None,
                run_id=None if campaign else 1,
            )
        )


async def clicked(
    engine: AsyncEngine, ref: str, ago: timedelta, *, preview: bool = False, campaign: bool = True
) -> None:
    at = ORDER_AT - ago
    origin, name = ("campaign", "black_friday") if campaign else ("flow", "welcome")
    async with engine.begin() as conn:
        row = link(
            f"c{ref}{int(ago.total_seconds())}"[:16],
            "https://acme.example/sale",
            1,
            ref,
            origin,
            name,
            1 if campaign else None,
            at,
        )
        link_id = (await conn.execute(insert(links).values(row).returning(links.c.id))).scalar_one()
        await conn.execute(
            insert(clicks).values(
                link_id=link_id, subscriber_id=1, campaign_id=row["campaign_id"], preview=preview, at=at
            )
        )


def placed(
    external_id: str = "o-1", phone: str = ANA, order_ref: str = "1001", at: datetime = ORDER_AT
) -> StoreEvent:
    return StoreEvent(
        source="api",
        external_id=external_id,
        type="order_placed",
        phone=phone,
        occurred_at=at,
        properties={"order_id": order_ref, "total_price": "129.95", "currency": "USD"},
        order_ref=order_ref,
        value_minor=12995,
        currency="USD",
    )


async def record(engine: AsyncEngine, *events: StoreEvent, windows: Windows = DEFAULTS) -> Recorded:
    async with engine.begin() as conn:
        return await conn.run_sync(record_events, list(events), {}, windows, ORDER_AT + timedelta(minutes=1))


async def credited(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(conversions).order_by(conversions.c.id))).all())


async def test_an_order_after_a_click_is_credited_to_the_clicked_message(engine: AsyncEngine) -> None:
    await sent(engine, "m-flow", timedelta(hours=30), campaign=False)
    await sent(engine, "m-bf", timedelta(days=3))
    await clicked(engine, "m-bf", timedelta(days=2))
    await sent(engine, "m-later", timedelta(hours=2), campaign=False)  # received later, never clicked
    assert (await record(engine, placed())).attributed == 1
    [conversion] = await credited(engine)
    assert (conversion.via, conversion.origin, conversion.origin_name, conversion.campaign_id) == (
        "click",
        "campaign",
        "black_friday",
        1,
    )
    assert (conversion.value_minor, conversion.currency, conversion.opt_in_source) == (12995, "USD", "JOIN")
    async with engine.connect() as conn:
        ref = (
            await conn.execute(select(messages.c.ref).where(messages.c.id == conversion.message_id))
        ).scalar_one()
    assert ref == "m-bf"


async def test_without_a_click_the_last_message_received_within_a_day_earns_it(engine: AsyncEngine) -> None:
    await sent(engine, "m-bf", timedelta(hours=30))
    await sent(engine, "m-welcome", timedelta(hours=20), campaign=False)
    await sent(engine, "m-failed", timedelta(hours=1), status="failed")
    await sent(engine, "m-after", -timedelta(minutes=5))  # sent after the order
    await record(engine, placed())
    [conversion] = await credited(engine)
    assert (conversion.via, conversion.origin, conversion.origin_name, conversion.campaign_id) == (
        "receipt",
        "flow",
        "welcome",
        None,
    )


async def test_old_clicks_and_messages_and_previews_earn_nothing(engine: AsyncEngine) -> None:
    await sent(engine, "m-bf", timedelta(days=6))
    await clicked(engine, "m-bf", timedelta(days=5, minutes=1))
    await clicked(engine, "m-bf", timedelta(hours=1), preview=True)  # a link-preview fetcher
    assert (await record(engine, placed())).attributed == 0
    assert await credited(engine) == []


async def test_the_windows_are_the_operators(engine: AsyncEngine) -> None:
    await sent(engine, "m-bf", timedelta(days=6))
    await clicked(engine, "m-bf", timedelta(days=6))
    await record(engine, placed(), windows=Windows(click=timedelta(days=7), receipt=timedelta(hours=12)))
    assert [c.via for c in await credited(engine)] == ["click"]


async def test_an_order_is_stored_and_credited_once_however_often_it_comes(engine: AsyncEngine) -> None:
    await sent(engine, "m-bf", timedelta(hours=3))
    first = await record(engine, placed())
    again = await record(
        engine,
        placed(),
        placed(external_id="o-1-resent"),
        replace(placed(), source="shopify", external_id="wh-9"),
    )
    assert (first.stored, first.attributed) == (1, 1)
    assert (again.stored, again.repeated, again.attributed) == (1, 2, 1)  # Shopify's copy is its own source
    async with engine.connect() as conn:
        assert len((await conn.execute(select(store_events))).all()) == 2
    assert len(await credited(engine)) == 2


async def test_a_customers_order_is_kept_but_credits_nothing_and_is_tied_to_nobody(
    engine: AsyncEngine,
) -> None:
    await sent(engine, "m-bf", timedelta(hours=3))
    recorded = await record(engine, placed(phone="+14155550199"))
    assert (recorded.stored, recorded.customers, recorded.attributed) == (1, 1, 0)
    async with engine.connect() as conn:
        [row] = (await conn.execute(select(store_events))).all()
    assert row.subscriber_id is None and row.phone == "+14155550199"


async def test_each_order_of_a_batch_is_credited_to_its_own_subscribers_message(engine: AsyncEngine) -> None:
    await sent(engine, "m-ana", timedelta(hours=3))
    await sent(engine, "m-ben", timedelta(hours=2), campaign=False, to=2)
    await record(engine, placed(), placed("o-2", BEN, "1002"))
    assert [(c.subscriber_id, c.origin) for c in await credited(engine)] == [(1, "campaign"), (2, "flow")]


async def test_batches_written_together_are_reported_apart(engine: AsyncEngine) -> None:
    """The writer stores the calls that arrive together in one pass; each call hears its own."""
    await sent(engine, "m-bf", timedelta(hours=3))
    customer = placed("o-9", "+14155550199", "1009")
    async with engine.begin() as conn:
        found = await conn.run_sync(
            record_batches,
            [[placed()], [placed(), customer], [placed("o-2", BEN, "1002")]],
            {},
            DEFAULTS,
            ORDER_AT,
        )
    assert found == [Recorded(1, 0, 0, 1), Recorded(1, 1, 1, 0), Recorded(1, 0, 0, 0)]


async def test_the_database_itself_refuses_a_second_order_placed_for_one_order(engine: AsyncEngine) -> None:
    """Not only the read before the write: a unique index. A row for order 1001 under another event
    id, written as a process that read before the first was stored would write it, is refused."""
    await record(engine, placed("o-1"))
    second = {
        "source": "api",
        "external_id": "o-2",
        "type": "order_placed",
        "phone": ANA,
        "order_ref": "1001",
        "properties": {},
        "occurred_at": ORDER_AT,
        "received_at": ORDER_AT,
    }
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(store_events).values(second))
    shipped = {**second, "external_id": "o-3", "type": "order_fulfilled"}  # other types: one each, many
    async with engine.begin() as conn:
        await conn.execute(insert(store_events).values(shipped))


async def test_two_processes_taking_one_order_at_once_store_it_once(
    engine: AsyncEngine, database_url: str
) -> None:
    """Two web processes, each reading that the order is new before either commits (PostgreSQL:
    SQLite takes one writer at a time, and the app's processes take turns by a lock)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writes one transaction at a time: two cannot both read before either writes")
    first, second = engine.connect(), engine.connect()
    async with first as a, second as b:
        await a.begin()
        await b.begin()
        now = ORDER_AT + timedelta(minutes=1)
        took = await a.run_sync(record_events, [placed("o-1")], {}, DEFAULTS, now)
        racing = asyncio.ensure_future(b.run_sync(record_events, [placed("o-2")], {}, DEFAULTS, now))
        await asyncio.sleep(0.2)  # b has read nothing stored and waits on a's uncommitted order
        assert not racing.done()
        await a.commit()
        late = await racing
        await b.commit()
    assert (took.stored, late.stored, late.repeated) == (1, 0, 1)
    async with engine.connect() as conn:
        orders = (await conn.execute(select(store_events.c.external_id))).scalars().all()
    assert orders == ["o-1"]
