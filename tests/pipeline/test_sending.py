"""The hand-over asks the gate about each stored message, with what the store knows at that moment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import count
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from bot.domain.quiet_hours import QuietHours, Window
from bot.pipeline import sending
from bot.store import db
from bot.store.rows import new_subscriber, outbox_message
from bot.store.schema import campaigns, messages, subscribers

NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
OPEN = QuietHours(Window(time(0), time(23, 59, 59)))
LEASE = timedelta(seconds=30)
REFS = count()


def stored(conn: Connection, **changes: Any) -> int:
    """A marketing message of a smart-sending campaign to a subscriber, with `changes`."""
    person = conn.execute(select(subscribers.c.id)).scalar()
    if person is None:
        row = {**new_subscriber("+14155550101", NOW), "status": "subscribed", "subscribed_at": NOW}
        person = conn.execute(insert(subscribers).returning(subscribers.c.id), [row]).scalar_one()
    campaign = conn.execute(select(campaigns.c.id)).scalar()
    if campaign is None:
        definition = {"name": "sale", "smart_sending_hours": 24}
        values = {
            "name": "sale",
            "round": 1,
            "status": "sending",
            "fingerprint": "f",
            "definition": definition,
        }
        values |= {"audience": 1, "started_by": "test", "started_at": NOW, "updated_at": NOW}
        campaign = conn.execute(insert(campaigns).returning(campaigns.c.id), [values]).scalar_one()
    message = outbox_message(person, f"m{next(REFS)}", "Acme: sale", (), None, NOW, NOW, NOW)
    message |= {"campaign_id": campaign, **changes}
    return int(conn.execute(insert(messages).returning(messages.c.id), [message]).scalar_one())


async def claimed(database_url: str, prepare: Any) -> tuple[sending.Claims, list[Any]]:
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            ids = await conn.run_sync(prepare)
            claims = await conn.run_sync(sending.claim, ids, OPEN, NOW, LEASE)
            found = select(messages.c.id, messages.c.status, messages.c.reason).order_by(messages.c.id)
            rows = list(await conn.execute(found))
    finally:
        await engine.dispose()
    return claims, rows


async def test_a_campaign_message_a_dead_worker_left_dispatching_is_looked_up_not_skipped(
    database_url: str,
) -> None:
    def prepare(conn: Connection) -> list[int]:
        return [stored(conn, status="dispatching", updated_at=NOW - timedelta(minutes=5))]

    claims, _ = await claimed(database_url, prepare)
    [ready] = claims.ready
    assert ready.recovering


async def test_smart_sending_at_hand_over_counts_what_reached_them_and_forgets_what_failed(
    database_url: str,
) -> None:
    def prepare(conn: Connection) -> list[int]:
        stored(conn, status="failed", handed_at=NOW - timedelta(hours=1))  # never reached them
        first = stored(conn)
        stored(conn, status="delivered", handed_at=NOW - timedelta(hours=2))  # reached them: counts
        return [first]

    claims, rows = await claimed(database_url, prepare)
    assert claims.ready == []
    assert [(r.status, r.reason) for r in rows][1] == ("cancelled", "smart_sending")


async def test_of_two_campaign_messages_queued_for_one_person_the_first_goes(database_url: str) -> None:
    def prepare(conn: Connection) -> list[int]:
        return [stored(conn), stored(conn)]

    claims, rows = await claimed(database_url, prepare)
    assert [c.id for c in claims.ready] == [rows[0].id]
    assert (rows[1].status, rows[1].reason) == ("cancelled", "smart_sending")


async def test_a_failure_the_carrier_reported_before_its_api_answered_is_kept(database_url: str) -> None:
    """The status callback came first (failed, 30005); the API's answer (queued) changes neither."""
    from bot.channels.base import SendResult

    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as conn:
            sent = await conn.run_sync(lambda c: stored(c, status="failed", error_code=30005))
            claimed = sending.Claimed(sent, "r", "+14155550101", "x", (), 0, False, NOW)
            answered = [(claimed, SendResult("SM1", "queued"))]
            await conn.run_sync(sending.record_results, answered, NOW, 5, LEASE)
            row = (await conn.execute(select(messages).where(messages.c.id == sent))).one()
    finally:
        await engine.dispose()
    assert (row.status, row.error_code, row.sid) == ("failed", 30005, "SM1")
