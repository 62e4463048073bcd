"""Segments compiled to SQL give the same members on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.program.loader import load_program
from bot.store import db
from bot.store.schema import keyword_events, subscribers
from bot.store.segments import count
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
TEXTED = [("+14155550001", "JOIN", 40), ("+14155550003", "JOIN", 2), ("+14155550004", "SHOES", 1)]


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

    recent = Segment("recent", Texted("JOIN", within_days=30))
    twice = Segment("twice", Texted("JOIN", at_least=2))
    async with stored.connect() as conn:
        assert await conn.run_sync(count, recent, {}, NOW) == (1, 0)  # only the one who texted 2 days ago
        assert await conn.run_sync(count, twice, {}, NOW) == (0, 0)


async def test_is_set_works_on_every_type_of_property(stored: Any) -> None:
    from bot.domain.segments import Op, Property, Segment

    async with stored.connect() as conn:
        for name, members in (("vip", 2), ("interests", 4), ("vcard_received", 1), ("first_name", 1)):
            has = Segment("has", Property(name, Op.IS_SET, True))
            lacks = Segment("lacks", Property(name, Op.IS_SET, False))
            assert (await conn.run_sync(count, has, {}, NOW))[0] == members, name
            assert (await conn.run_sync(count, lacks, {}, NOW))[0] == len(PEOPLE) - members, name
