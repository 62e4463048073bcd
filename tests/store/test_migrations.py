"""The Alembic migrations build exactly the tables the code describes."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import make_url, select

from bot.store import db
from bot.store.schema import metadata, subscribers


async def test_migrations_match_the_schema(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_upgrade_twice_is_harmless(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine)
        await db.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def empty_database(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database of the same kind with no tables at all (the shared test database is at head)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    import asyncpg

    admin_url = make_url(database_url).set(drivername="postgresql")
    admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    await admin.execute("DROP DATABASE IF EXISTS smsbot_test_migrations")
    await admin.execute("CREATE DATABASE smsbot_test_migrations")
    try:
        yield (
            make_url(database_url)
            .set(database="smsbot_test_migrations")
            .render_as_string(hide_password=False)
        )
    finally:
        await admin.execute("DROP DATABASE IF EXISTS smsbot_test_migrations WITH (FORCE)")
        await admin.close()


async def test_upgrading_fills_what_segments_read_from_the_history_already_stored(
    empty_database: str,
) -> None:
    import sqlalchemy as sa

    engine = db.create_engine(empty_database)
    texted, clicked = datetime(2026, 9, 1, 12, tzinfo=UTC), datetime(2026, 10, 5, 8, 30, tzinfo=UTC)
    history = [
        "INSERT INTO subscribers (id, phone, status, properties, created_at, updated_at)"
        " VALUES (1, '+14155550101', 'subscribed', '{}', :at, :at), (2, '+14155550102', 'new', '{}', :at, :at)",
        "INSERT INTO messages (subscriber_id, direction, body, media_urls, status, created_at, updated_at)"
        " VALUES (1, 'inbound', 'JOIN', '[]', 'received', :at, :at)",
        "INSERT INTO keyword_events (subscriber_id, keyword, text, message_sid, at)"
        " VALUES (1, 'JOIN', 'join', 'SM1', :at), (1, 'JOIN', 'JION', 'SM2', :at)",
        "INSERT INTO links (id, code, url, subscriber_id, origin, origin_name, created_at)"
        " VALUES (1, 'abc', 'https://acme.example', 1, 'campaign', 'sale', :at)",
        "INSERT INTO clicks (link_id, subscriber_id, preview, at) VALUES (1, 1, false, :clicked)",
        "INSERT INTO clicks (link_id, subscriber_id, preview, at) VALUES (1, 1, true, :later)",
    ]
    try:
        await db.upgrade(engine, "0007")
        async with engine.begin() as conn:
            for statement in history:
                stamps = {"at": texted, "clicked": clicked, "later": clicked + timedelta(days=9)}
                used = {k: v for k, v in stamps.items() if f":{k}" in statement}
                await conn.execute(sa.text(statement), _stored(conn.dialect.name, used))
        await db.upgrade(engine)
        async with engine.connect() as conn:
            found = (
                await conn.execute(
                    select(subscribers.c.engaged_at, subscribers.c.keywords_texted).order_by(subscribers.c.id)
                )
            ).all()
    finally:
        await engine.dispose()
    # The last non-preview click, later than the text; two JOINs; nothing for the one who never texted.
    assert [tuple(row) for row in found] == [
        (clicked, {"JOIN": {"times": 2, "last": "2026-09-01T12:00:00Z"}}),
        (None, None),
    ]


def _stored(dialect: str, stamps: dict[str, datetime]) -> dict[str, object]:
    """Times as each database keeps a UTC column (SQLite: naive text)."""
    if dialect == "sqlite":
        return {name: at.replace(tzinfo=None).isoformat(" ") for name, at in stamps.items()}
    return dict(stamps)


async def test_upgrading_removes_an_order_a_race_stored_twice_keeping_the_first(empty_database: str) -> None:
    import sqlalchemy as sa

    from bot.store.schema import conversions, store_events

    engine = db.create_engine(empty_database)
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    events = (
        "INSERT INTO store_events (id, source, external_id, type, phone, order_ref, properties,"
        " occurred_at, received_at) VALUES"
        " (1, 'api', 'e1', 'order_placed', '+14155550101', '2003', '{}', :at, :at),"
        " (2, 'api', 'e2', 'order_placed', '+14155550101', '2003', '{}', :at, :at),"
        " (3, 'api', 'e3', 'order_fulfilled', '+14155550101', '2003', '{}', :at, :at),"
        " (4, 'shopify', 's1', 'order_placed', '+14155550101', '2003', '{}', :at, :at)"
    )
    credit = (
        "INSERT INTO conversions (event_id, subscriber_id, via, origin, origin_name, occurred_at)"
        " VALUES (2, 1, 'click', 'campaign', 'sale', :at)"
    )
    try:
        await db.upgrade(engine, "0012")
        async with engine.begin() as conn:
            for statement in (events, credit):
                await conn.execute(sa.text(statement), _stored(conn.dialect.name, {"at": at}))
        await db.upgrade(engine)
        async with engine.connect() as conn:
            kept = (await conn.execute(select(store_events.c.id).order_by(store_events.c.id))).scalars().all()
            credited = (await conn.execute(select(conversions.c.event_id))).scalars().all()
    finally:
        await engine.dispose()
    assert kept == [1, 3, 4]  # the first order_placed; other types and other sources untouched
    assert credited == []  # the duplicate's conversion went with it
