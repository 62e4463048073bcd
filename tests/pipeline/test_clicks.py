"""A tap on a tracked link: found by its code (and kept), the click recorded as the writer records it."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.pipeline.clicks import Click, Destinations, record_clicks
from bot.store import db
from bot.store.rows import link, new_subscriber
from bot.store.schema import clicks, links, subscribers

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
YEAR = timedelta(days=365)


async def test_a_link_is_found_by_its_code_with_its_utm_parameters_and_kept(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(subscribers.insert().values(new_subscriber("+14155550100", NOW)))
            row = link("Ab3dEf9h", "https://acme.example/x", 1, "r1", "campaign", "sale", 7, NOW)
            await conn.execute(links.insert().values(row))
        destinations = Destinations(db.Reads(engine, database_url), 5.0, capacity=10)
        found = await destinations.find("Ab3dEf9h")
        assert await destinations.find("nothing1") is None
        async with engine.begin() as conn:  # gone from the database: still known to this process
            await conn.execute(delete(links))
        assert await destinations.find("Ab3dEf9h") == found
    finally:
        await engine.dispose()
    assert found is not None
    assert found.target == "https://acme.example/x?utm_source=sms&utm_medium=campaign&utm_campaign=sale"
    assert (found.subscriber_id, found.campaign_id) == (1, 7)
    assert found.live(NOW + timedelta(days=364), YEAR)
    assert not found.live(NOW + timedelta(days=366), YEAR)


async def test_an_unknown_code_is_looked_up_again_for_a_link_made_since(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        destinations = Destinations(db.Reads(engine, database_url), 5.0)
        assert await destinations.find("Ab3dEf9h") is None
        async with engine.begin() as conn:
            await conn.execute(subscribers.insert().values(new_subscriber("+14155550100", NOW)))
            row = link("Ab3dEf9h", "https://acme.example/x", 1, "r1", "flow", "welcome", None, NOW)
            await conn.execute(links.insert().values(row))
        assert await destinations.find("Ab3dEf9h") is not None
    finally:
        await engine.dispose()


class CountedReads(db.Reads):
    """Real reads, counted."""

    def __init__(self, engine: Any, url: str) -> None:
        super().__init__(engine, url)
        self.calls = 0

    async def run(self, work: Any, *args: Any) -> Any:
        self.calls += 1
        return await super().run(work, *args)


async def test_taps_arriving_together_are_looked_up_in_one_read(database_url: str) -> None:
    engine = db.create_engine(database_url)
    codes = [f"code{n:04d}" for n in range(20)]
    try:
        async with engine.begin() as conn:
            await conn.execute(subscribers.insert().values(new_subscriber("+14155550100", NOW)))
            for code in codes:
                row = link(code, f"https://acme.example/{code}", 1, "r1", "campaign", "sale", None, NOW)
                await conn.execute(links.insert().values(row))
        reads = CountedReads(engine, database_url)
        destinations = Destinations(reads, 5.0)
        found = await asyncio.gather(*(destinations.find(c) for c in [*codes, "nothing1", codes[0]]))
        reads.close()
    finally:
        await engine.dispose()
    assert reads.calls == 1
    assert [f.target.split("?")[0] if f else None for f in found] == [
        *(f"https://acme.example/{c}" for c in codes),
        None,
        "https://acme.example/code0000",
    ]


class SlowReads(db.Reads):
    """Real reads, the first of them late (a database too busy to answer in time)."""

    def __init__(self, engine: Any, url: str) -> None:
        super().__init__(engine, url)
        self.late = True

    async def run(self, work: Any, *args: Any) -> Any:
        if self.late:
            self.late = False
            await asyncio.sleep(1.0)
        return await super().run(work, *args)


async def test_taps_waiting_on_a_late_read_are_told_in_time_and_the_next_read_answers(
    database_url: str,
) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(subscribers.insert().values(new_subscriber("+14155550100", NOW)))
            row = link("Ab3dEf9h", "https://acme.example/x", 1, "r1", "campaign", "sale", None, NOW)
            await conn.execute(links.insert().values(row))
        reads = SlowReads(engine, database_url)
        destinations = Destinations(reads, 0.2)
        asked = asyncio.get_running_loop().time()
        late = await asyncio.gather(
            *(destinations.find(c) for c in ["Ab3dEf9h", "nothing1"]), return_exceptions=True
        )
        waited = asyncio.get_running_loop().time() - asked
        found = await destinations.find("Ab3dEf9h")
        reads.close()
    finally:
        await engine.dispose()
    assert [type(answer) for answer in late] == [TimeoutError, TimeoutError]
    assert waited < 0.9
    assert found is not None and found.target.startswith("https://acme.example/x?")


async def test_control_characters_in_a_user_agent_are_not_stored(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(subscribers.insert().values(new_subscriber("+14155550100", NOW)))
            row = link("Ab3dEf9h", "https://acme.example/x", 1, "r1", "campaign", "sale", None, NOW)
            await conn.execute(links.insert().values(row))
        found = await Destinations(db.Reads(engine, database_url), 5.0).find("Ab3dEf9h")
        assert found is not None
        async with engine.begin() as conn:
            tap = Click(found, "Mozilla/5.0 (iPhone)\x00\x01 Mobile", False, NOW)
            await conn.run_sync(record_clicks, [tap])
            agents = list(await conn.scalars(select(clicks.c.user_agent)))
    finally:
        await engine.dispose()
    assert agents == ["Mozilla/5.0 (iPhone) Mobile"]
