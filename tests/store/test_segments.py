"""Segments compiled to SQL give the same members on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import literal_column

from bot.program.loader import load_program
from bot.store import db
from bot.store.schema import keyword_events, subscribers
from bot.store.segments import count
from bot.store.summaries import fill_summaries
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
PEOPLE: list[dict[str, Any]] = [
    {
        "phone": "+14155550001",
        "status": "subscribed",
        "language": "es",
        "opt_in_keyword": "JOIN",
        "properties": {"vip": True, "interests": ["shoes", "sales"]},
    },
    {
        "phone": "+14155550002",
        "status": "subscribed",
        "language": None,
        "opt_in_keyword": "UNETE",
        "properties": {"interests": ["events"], "vcard_received": True, "first_name": "Ana"},
    },
    {
        "phone": "+14155550003",
        "status": "unsubscribed",
        "language": "en",
        "opt_in_keyword": "JOIN",
        "properties": {"interests": ["shoes"]},
    },
    {
        "phone": "+14155550004",
        "status": "subscribed",
        "language": "fr",
        "opt_in_keyword": "SHOES",
        "properties": {"interests": ["shoes"], "vip": False},
    },
]
TEXTED = [
    ("+14155550001", "JOIN", 40),
    ("+14155550003", "JOIN", 2),
    ("+14155550003", "JOIN", 45),
    ("+14155550004", "SHOES", 1),
]


@pytest.fixture
async def stored(database_url: str) -> Any:
    engine = db.create_engine(database_url)
    async with engine.begin() as conn:
        for person in PEOPLE:
            row = {"opt_in_source": person["opt_in_keyword"], "created_at": NOW, "updated_at": NOW, **person}
            await conn.execute(subscribers.insert().values(row))
        ids = {
            phone: i
            for i, phone in await conn.execute(
                subscribers.select().with_only_columns(subscribers.c.id, subscribers.c.phone)
            )
        }
        for phone, keyword, days_ago in TEXTED:
            await conn.execute(
                keyword_events.insert().values(
                    subscriber_id=ids[phone],
                    keyword=keyword,
                    text=keyword,
                    message_sid=f"SM{phone}{keyword}",
                    at=NOW - timedelta(days=days_ago),
                )
            )
        await conn.run_sync(fill_summaries)  # what the pipeline keeps as the events arrive
    yield engine
    await engine.dispose()


@pytest.mark.parametrize(
    ("segment", "members", "subscribed"),
    [
        ("all_subscribers", 3, 3),
        ("vip", 1, 1),
        ("shoe_fans", 3, 2),  # an unsubscribed shoe fan is a member, and never reached
        ("texted_join", 2, 1),
        ("spanish_speakers", 2, 2),  # by language, or by the Spanish opt-in keyword
        ("received_contact_card", 1, 1),
        ("shoe_fans_not_vip", 2, 1),
    ],
)
async def test_each_shipped_segment_counts_its_members(
    stored: Any, segment: str, members: int, subscribed: int
) -> None:
    async with stored.connect() as conn:
        found = await conn.run_sync(count, PROGRAM.segments[segment], PROGRAM.segments, NOW)
    assert found == (members, subscribed)


async def test_texted_within_days_and_at_least(stored: Any) -> None:
    from bot.domain.segments import Segment, Texted

    def texted(**options: int) -> Segment:
        return Segment("texted", Texted("JOIN", **options))

    async with stored.connect() as conn:
        assert await conn.run_sync(count, texted(within_days=30), {}, NOW) == (1, 0)  # texted 2 days ago
        assert await conn.run_sync(count, texted(at_least=2), {}, NOW) == (1, 0)  # 2 and 45 days ago
        assert await conn.run_sync(count, texted(at_least=3), {}, NOW) == (0, 0)
        # Twice within a window is counted from the events themselves.
        assert await conn.run_sync(count, texted(within_days=30, at_least=2), {}, NOW) == (0, 0)
        assert await conn.run_sync(count, texted(within_days=50, at_least=2), {}, NOW) == (1, 0)


async def test_is_set_works_on_every_type_of_property(stored: Any) -> None:
    from bot.domain.segments import Op, Property, Segment

    async with stored.connect() as conn:
        for name, members in (("vip", 2), ("interests", 4), ("vcard_received", 1), ("first_name", 1)):
            has = Segment("has", Property(name, Op.IS_SET, True))
            lacks = Segment("lacks", Property(name, Op.IS_SET, False))
            assert (await conn.run_sync(count, has, {}, NOW))[0] == members, name
            assert (await conn.run_sync(count, lacks, {}, NOW))[0] == len(PEOPLE) - members, name


# -- conditions over time, places and behaviour ------------------------------------------------------

ANA, BEN, CLEO = "+14155550101", "+16045550102", "+447700900103"  # US, Canada, United Kingdom


@pytest.fixture
async def lives(database_url: str) -> Any:
    """Three subscribers with histories: who texted, clicked, got a campaign, ran a flow."""
    from bot.store.rows import new_subscriber
    from bot.store.schema import campaigns, clicks, flow_runs, links, messages

    engine = db.create_engine(database_url)
    async with engine.begin() as conn:
        ids: dict[str, int] = {}
        born = {ANA: "1990-11-28", BEN: "--12-30", CLEO: "2026-11-20"}  # birthday in 2 days, in 34, a date
        joined = {
            ANA: NOW - timedelta(days=3),
            BEN: NOW - timedelta(days=40),
            CLEO: NOW - timedelta(days=400),
        }
        for phone in (ANA, BEN, CLEO):
            row = {
                **new_subscriber(phone, NOW),
                "status": "subscribed",
                "subscribed_at": joined[phone],
                "properties": {"birthday": born[phone]},
            }
            ids[phone] = await new_id(conn, subscribers.insert().values(row))
        sale = await new_id(
            conn,
            campaigns.insert().values(
                name="shoe_sale",
                round=1,
                status="finished",
                fingerprint="f",
                definition={},
                audience=2,
                started_by="test",
                started_at=NOW,
                updated_at=NOW,
            ),
        )

        def message(phone: str, direction: str, days_ago: int, **more: Any) -> dict[str, Any]:
            at = NOW - timedelta(days=days_ago)
            return {
                "subscriber_id": ids[phone],
                "direction": direction,
                "body": "hi",
                "media_urls": [],
                "status": "received",
                "created_at": at,
                "updated_at": at,
                "campaign_id": None,  # every row names the same columns: one executemany
                "handed_at": None,
                **more,
            }

        await conn.execute(
            messages.insert(),
            [
                message(ANA, "inbound", 5),  # Ana texted us 5 days ago
                message(BEN, "inbound", 60),  # Ben, 60 days ago
                message(BEN, "outbound", 10, campaign_id=sale, handed_at=NOW - timedelta(days=10)),
                message(CLEO, "outbound", 1, campaign_id=sale, handed_at=NOW - timedelta(days=1)),
            ],
        )
        for phone, preview, days_ago in ((CLEO, True, 1), (BEN, False, 8)):
            link = await new_id(
                conn,
                links.insert().values(
                    code=f"c{ids[phone]}",
                    url="https://acme.example/sale",
                    subscriber_id=ids[phone],
                    origin="campaign",
                    origin_name="shoe_sale",
                    campaign_id=sale,
                    created_at=NOW,
                ),
            )
            await conn.execute(
                clicks.insert().values(
                    link_id=link,
                    subscriber_id=ids[phone],
                    campaign_id=sale,
                    preview=preview,
                    user_agent="x",
                    at=NOW - timedelta(days=days_ago),
                )
            )
        for phone, status in ((ANA, "active"), (BEN, "ended")):
            await conn.execute(
                flow_runs.insert().values(
                    subscriber_id=ids[phone],
                    flow="welcome",
                    status=status,
                    step=0,
                    waiting=False,
                    asked_again=False,
                    started_at=NOW,
                    updated_at=NOW,
                )
            )
        await conn.run_sync(fill_summaries)
    yield engine
    await engine.dispose()


async def new_id(conn: Any, insert: Any) -> int:
    """Insert one row; its id."""
    return int((await conn.execute(insert.returning(literal_column("id")))).scalar_one())


async def members_of(engine: Any, condition: Any) -> set[str]:
    from sqlalchemy import select

    from bot.domain.segments import Segment
    from bot.store.segments import where

    async with engine.connect() as conn:
        clause = where(Segment("s", condition).condition, conn.dialect.name, {}, NOW)
        return set((await conn.execute(select(subscribers.c.phone).where(clause))).scalars())


async def test_country_comes_from_the_number(lives: Any) -> None:
    from bot.domain.segments import Field, IsOneOf

    assert await members_of(lives, IsOneOf(Field.COUNTRY, ("US", "CA"))) == {ANA, BEN}
    assert await members_of(lives, IsOneOf(Field.COUNTRY, ("GB",))) == {CLEO}


async def test_subscribed_within_days_after_and_before_a_date(lives: Any) -> None:
    from bot.domain.segments import Subscribed

    assert await members_of(lives, Subscribed(within_days=30)) == {ANA}
    assert await members_of(lives, Subscribed(after="2026-01-01")) == {ANA, BEN}
    assert await members_of(lives, Subscribed(before="2026-01-01")) == {CLEO}


async def test_dates_relative_to_today_with_and_without_the_year(lives: Any) -> None:
    from bot.domain.segments import DateWithin

    assert await members_of(lives, DateWithin("birthday", 7, ignore_year=True)) == {ANA}
    assert await members_of(lives, DateWithin("birthday", 40, ignore_year=True)) == {ANA, BEN}
    assert await members_of(lives, DateWithin("birthday", -30)) == {CLEO}  # a full date in the last 30 days
    assert await members_of(lives, DateWithin("birthday", 7)) == set()  # 1990 is not in the next week


async def test_engaged_counts_texts_and_clicks_but_not_link_previews(lives: Any) -> None:
    from bot.domain.segments import Engaged

    # Ana texted 5 days ago; Ben clicked 8 days ago; Cleo's only click was a preview fetcher's.
    assert await members_of(lives, Engaged(30)) == {ANA, BEN}
    assert await members_of(lives, Engaged(7)) == {ANA}
    assert await members_of(lives, Engaged(90)) == {ANA, BEN}


async def test_clicked_and_received_a_campaign(lives: Any) -> None:
    from bot.domain.segments import Clicked, ReceivedCampaign

    assert await members_of(lives, Clicked(campaign="shoe_sale")) == {BEN}
    assert await members_of(lives, Clicked(within_days=7)) == set()
    assert await members_of(lives, Clicked(campaign="another")) == set()
    assert await members_of(lives, ReceivedCampaign("shoe_sale")) == {BEN, CLEO}
    assert await members_of(lives, ReceivedCampaign("shoe_sale", within_days=5)) == {CLEO}


async def test_in_a_flow_and_finished_a_flow(lives: Any) -> None:
    from bot.domain.segments import InFlow

    assert await members_of(lives, InFlow("welcome")) == {ANA}
    assert await members_of(lives, InFlow("welcome", finished=True)) == {BEN}
