"""The writer: inbound messages and delivery reports share its batches, one transaction each."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.channels.base import StatusReport
from bot.domain.inbound import InboundMessage
from bot.domain.outcome import Policy
from bot.pipeline.apply import Applied
from bot.pipeline.writer import Writer, apply_work
from bot.program.loader import load_program
from bot.store import db
from bot.store.schema import consent_events, messages, subscribers
from tests.conftest import KEYWORDS, backend_pid, terminate_backend

PROGRAM = load_program(KEYWORDS).program
ANA = "+14155550123"


def text(sid: str, body: str) -> InboundMessage:
    return InboundMessage(sid, ANA, "+15005550006", body, datetime.now(UTC))


async def test_a_delivery_report_is_written_in_the_same_batch_as_the_message_before_it(
    database_url: str,
) -> None:
    engine = db.create_engine(database_url)
    writer = Writer(engine, database_url, lambda: PROGRAM, Policy(public_url="https://sms.example.com"))
    writer.start()
    try:
        joined = await writer.submit(text("SM1", "JOIN"))
        card = next(reply for reply in joined.replies if reply.media_urls)
        applied, found, unknown = await asyncio.gather(
            writer.submit(text("SM2", "HELP")),
            writer.report(StatusReport("SMcarrier1", "delivered", ref=card.ref)),
            writer.report(StatusReport("SMnobody", "delivered", ref="nobody.0")),
        )
    finally:
        await writer.close()
    assert isinstance(applied, Applied) and (found, unknown) == (True, False)
    async with engine.connect() as conn:
        stored = (
            await conn.execute(select(messages.c.status, messages.c.sid).where(messages.c.ref == card.ref))
        ).one()
        properties = await conn.scalar(select(subscribers.c.properties))
    await engine.dispose()
    assert tuple(stored) == ("delivered", "SMcarrier1")
    assert properties is not None and properties["vcard_received"] is True


async def test_an_opt_out_reported_by_the_carrier_is_an_opt_out_like_stop(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            [joined] = await conn.run_sync(
                apply_work, [text("SM1", "JOIN")], PROGRAM, Policy(), datetime.now(UTC)
            )
            assert isinstance(joined, Applied)
            refused = StatusReport(
                "SMc", "failed", ref=joined.replies[0].ref, error_code=21610, opted_out=True
            )
            assert await conn.run_sync(apply_work, [refused], PROGRAM, Policy(), datetime.now(UTC)) == [True]
        async with engine.connect() as conn:
            status = await conn.scalar(select(subscribers.c.status))
            consent = (await conn.execute(select(consent_events.c.action, consent_events.c.source))).all()
    finally:
        await engine.dispose()
    assert status == "unsubscribed"
    assert [tuple(row) for row in consent] == [("opt_in", "JOIN"), ("opt_out", "carrier:21610")]


async def test_a_message_whose_connection_the_server_dropped_is_applied_once_on_a_new_one(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connections (SQLite has none to lose)")
    engine = db.create_engine(database_url)
    writer = Writer(engine, database_url, lambda: PROGRAM, Policy())
    writer.start()
    try:
        await writer.submit(text("SM1", "JOIN"))
        pid = await backend_pid(engine)  # the writer's connection, back in the pool
        await terminate_backend(database_url, pid)  # a restart, as far as that connection can tell
        applied = await writer.submit(text("SM2", "HELP"))
    finally:
        await writer.close()
    async with engine.connect() as conn:
        sids = list(await conn.scalars(select(messages.c.sid).where(messages.c.direction == "inbound")))
    await engine.dispose()
    assert applied.replies and sids == ["SM1", "SM2"]
