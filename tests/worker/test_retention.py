"""privacy.keep_messages_days: the worker blanks message bodies older than that, a batch at a time,
keeping the rows, their statuses and every count the dashboard shows."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.pipeline import retention
from bot.store.schema import activity_deltas, messages, total_counts
from tests.conftest import PUBLIC_URL, TOKEN, Phone, services_of
from tests.worker.conftest import WorkerFactory


def ana(app: Any) -> Phone:
    return Phone(app, "+14155550123", token=TOKEN, public_url=PUBLIC_URL)


async def stored(app: Any) -> list[tuple[str, str, Any]]:
    async with services_of(app).engine.connect() as conn:
        rows = await conn.execute(
            select(messages.c.body, messages.c.status, messages.c.media_urls).order_by(messages.c.id)
        )
        return [tuple(row) for row in rows]


async def counted(app: Any) -> tuple[int, int]:
    async with services_of(app).engine.connect() as conn:
        deltas = await conn.scalar(select(func.count()).select_from(activity_deltas))
        totals = await conn.scalar(select(func.count()).select_from(total_counts))
        return int(deltas or 0), int(totals or 0)


async def test_bodies_older_than_the_setting_are_blanked_rows_and_counts_kept(
    app: Any, make_worker: WorkerFactory
) -> None:
    await ana(app).text("JOIN")
    await ana(app).text("Ana")
    services = services_of(app)
    async with services.engine.begin() as conn:  # the JOIN and its replies, 40 days ago
        await conn.execute(
            update(messages)
            .where(messages.c.id <= 4)
            .values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
        waiting = datetime.now(UTC) - timedelta(days=40)  # a message still in the outbox (a long wait)
        await conn.execute(
            update(messages).where(messages.c.id == 5).values(status="pending", created_at=waiting)
        )
    before, counts = await stored(app), await counted(app)
    worker = make_worker(lambda: datetime.now(UTC), keep_messages_days=30)
    assert await worker.forget_old_bodies() == 4
    assert await worker.forget_old_bodies() == 0  # the walk is over: it starts again later
    assert await worker.forget_old_bodies() == 0  # the next walk writes nothing already blanked
    after = await stored(app)
    assert len(after) == len(before)
    assert [row[0] for row in after[:4]] == [""] * 4 and after[4:] == before[4:]
    assert after[4][1] == "pending" and after[4][0] != ""  # what is still to go out keeps its words
    assert [row[1] for row in after] == [row[1] for row in before]  # statuses kept
    assert all(row[2] == [] for row in after[:4])
    assert await counted(app) == counts  # the dashboard's counts: not a delta more or less


async def test_off_by_default_nothing_is_forgotten(app: Any, make_worker: WorkerFactory) -> None:
    await ana(app).text("JOIN")
    worker = make_worker(lambda: datetime.now(UTC) + timedelta(days=10_000))
    assert worker.settings.keep_messages_days is None
    assert await worker._forgetting() == 3600.0  # the loop's own turn: rests, blanks nothing
    assert "JOIN" in [row[0] for row in await stored(app)]


async def test_the_walk_goes_a_batch_at_a_time(app: Any) -> None:
    services = services_of(app)
    await ana(app).text("JOIN")
    async with services.engine.begin() as conn:
        first = (await conn.execute(select(func.min(messages.c.id)))).scalar_one()
        later = datetime.now(UTC) + timedelta(days=31)
        blanked, after = await conn.run_sync(retention.forget_bodies, later, 30, 0)
        again, same = await conn.run_sync(retention.forget_bodies, later, 30, after)
    assert blanked >= 1 and after >= first and (again, same) == (0, after)
