"""A tap on a tracked link, recorded as the writer records it."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.pipeline.clicks import Click, record_clicks
from bot.store import db
from bot.store.rows import link, new_subscriber
from bot.store.schema import clicks, links, subscribers

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


async def test_control_characters_in_a_user_agent_are_not_stored(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(subscribers.insert().values(new_subscriber("+14155550100", NOW)))
            row = link("Ab3dEf9h", "https://acme.example/x", 1, "r1", "campaign", "sale", None, NOW)
            await conn.execute(links.insert().values(row))
            tap = Click("Ab3dEf9h", "Mozilla/5.0 (iPhone)\x00\x01 Mobile", False, NOW)
            late = Click("Ab3dEf9h", "Mozilla", False, NOW + timedelta(days=400))
            unknown = Click("nothing1", "Mozilla", False, NOW)
            targets = await conn.run_sync(record_clicks, [tap, late, unknown], timedelta(days=365))
            agents = list(await conn.scalars(select(clicks.c.user_agent)))
    finally:
        await engine.dispose()
    assert targets[0] == "https://acme.example/x?utm_source=sms&utm_medium=campaign&utm_campaign=sale"
    assert targets[1:] == [None, None]  # expired, unknown: 404, nothing stored
    assert agents == ["Mozilla/5.0 (iPhone) Mobile"]
