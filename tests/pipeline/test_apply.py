"""apply_batch on the real database: messages of one batch are applied in order."""

from datetime import UTC, datetime

from sqlalchemy import select

from bot.domain.inbound import InboundMessage
from bot.domain.outcome import Policy
from bot.pipeline.apply import apply_batch
from bot.program.loader import load_program
from bot.store import db
from bot.store.schema import flow_runs, subscribers
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
