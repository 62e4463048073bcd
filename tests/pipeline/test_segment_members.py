"""CSV rows a spreadsheet opens safely, the same on both databases."""

from datetime import UTC, datetime
from typing import Any

from bot.pipeline.segment_members import csv_header, csv_page
from bot.program.loader import load_program
from bot.store import db
from bot.store.rows import new_subscriber
from bot.store.schema import subscribers
from tests.conftest import KEYWORDS

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


async def test_a_formula_typed_as_a_name_is_kept_as_text(database_url: str) -> None:
    program = load_program(KEYWORDS).program
    engine = db.create_engine(database_url)
    properties = {"first_name": '=HYPERLINK("http://evil.example","x")', "interests": ["shoes", "sales"]}
    row: dict[str, Any] = {
        **new_subscriber("+14155550100", NOW),
        "status": "subscribed",
        "subscribed_at": NOW,
        "properties": properties,
    }
    try:
        async with engine.begin() as conn:
            await conn.execute(subscribers.insert().values(row))
            text, after = await conn.run_sync(csv_page, program, "all_subscribers", NOW, 0)
    finally:
        await engine.dispose()
    assert csv_header(program).startswith("phone,status,language,country,")
    assert after is None
    assert text.startswith("+14155550100,subscribed,,US,,,2026-11-26 12:00:00+00:00,")
    assert "'=HYPERLINK" in text and "shoes;sales" in text


async def test_every_kind_of_property_is_written_the_same_on_both_databases(database_url: str) -> None:
    program = load_program(KEYWORDS).program
    engine = db.create_engine(database_url)
    properties = {"first_name": "", "vip": True, "vcard_received": False, "interests": ["shoes", "new"]}
    people = [
        {
            **new_subscriber("+14155550100", NOW),
            "status": "subscribed",
            "subscribed_at": NOW,
            "properties": properties,
        },
        {
            **new_subscriber("+14155550101", NOW),
            "status": "unsubscribed",
            "properties": {"birthday": "-05-17"},
        },
    ]
    try:
        async with engine.begin() as conn:
            for row in people:
                await conn.execute(subscribers.insert().values(row))
            first, after = await conn.run_sync(csv_page, program, "north_america", NOW, 0, 1)
            rest, done = await conn.run_sync(csv_page, program, "north_america", NOW, after or 0)
    finally:
        await engine.dispose()
    # birthday, first_name, interests, vcard_received, vip: a list joined, booleans as JSON writes them,
    # an empty answer empty, a value that looks like a formula (a leading "-") escaped.
    assert first == "+14155550100,subscribed,,US,,,2026-11-26 12:00:00+00:00,,,shoes;new,false,true\r\n"
    assert rest == "+14155550101,unsubscribed,,US,,,,'-05-17,,,,\r\n"
    assert done is None
