"""apply_batch on the real database: messages of one batch are applied in order."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.domain.inbound import InboundMessage
from bot.domain.outcome import Policy
from bot.pipeline.apply import apply_batch
from bot.program.loader import load_program
from bot.store import db
from bot.store.schema import consent_events, flow_runs, subscribers
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program


async def run(database_url: str, *bodies: str) -> tuple[str, list[str]]:
    now = datetime.now(UTC)
    batch = [InboundMessage(f"SM{i}", "+14155550123", "55555", body, now) for i, body in enumerate(bodies)]
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(apply_batch, batch, PROGRAM, Policy(), now)
        async with engine.connect() as conn:
            status = await conn.scalar(select(subscribers.c.status))
            runs = list(await conn.scalars(select(flow_runs.c.status).order_by(flow_runs.c.id)))
    finally:
        await engine.dispose()
    return str(status), runs


async def test_join_then_stop_in_one_batch_leaves_no_running_flow(database_url: str) -> None:
    assert await run(database_url, "JOIN", "STOP") == ("unsubscribed", [])


async def test_stop_then_join_in_one_batch_leaves_one_running_flow(database_url: str) -> None:
    assert await run(database_url, "STOP", "JOIN") == ("subscribed", ["active"])


async def test_each_text_keeps_when_they_last_engaged_and_each_keyword_they_texted(database_url: str) -> None:
    # "JION" is JOIN misspelled: it counts as JOIN, as keyword_events record it.
    first = datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC)
    later = datetime(2026, 11, 26, 18, 0, 5, 500_000, tzinfo=UTC)
    engine = db.create_engine(database_url)
    try:
        for n, (body, at) in enumerate((("JOIN", first), ("SHOES", first), ("JION", later))):
            async with engine.begin() as conn:
                message = InboundMessage(f"SM{n}", "+14155550123", "55555", body, at)
                await conn.run_sync(apply_batch, [message], PROGRAM, Policy(), at)
        async with engine.connect() as conn:
            engaged, texted = (
                await conn.execute(select(subscribers.c.engaged_at, subscribers.c.keywords_texted))
            ).one()
    finally:
        await engine.dispose()
    assert engaged == later
    assert texted == {
        "JOIN": {"times": 2, "last": "2026-11-26T18:00:05Z"},
        "SHOES": {"times": 1, "last": "2026-11-20T09:30:15Z"},
    }


async def test_a_new_number_made_first_by_another_writer_is_read_as_theirs_and_waits_for_it(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's writers run side by side (SQLite's BEGIN IMMEDIATE takes turns)")
    now = datetime.now(UTC)
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as first, engine.connect() as second:
            await first.begin()
            join = InboundMessage("SM-join", "+14155550123", "55555", "JOIN", now)
            await first.run_sync(apply_batch, [join], PROGRAM, Policy(), now)
            await second.begin()
            stop = InboundMessage("SM-stop", "+14155550123", "55555", "STOP", now)
            waiting = asyncio.create_task(second.run_sync(apply_batch, [stop], PROGRAM, Policy(), now))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # its insert of the same number waits for the first to end
            await first.commit()
            [applied] = await waiting
            await second.commit()
        async with engine.connect() as conn:
            stored = (await conn.execute(select(subscribers.c.id, subscribers.c.status))).all()
            moves = (
                await conn.execute(
                    select(consent_events.c.from_status, consent_events.c.to_status).order_by(
                        consent_events.c.id
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert applied.outcome is not None and not applied.duplicate
    assert [status for _, status in stored] == ["unsubscribed"]  # one row, the STOP applied to it
    assert [tuple(m) for m in moves] == [("new", "subscribed"), ("subscribed", "unsubscribed")]
