"""The Alembic migrations build exactly the tables the code describes."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store import db
from bot.store.schema import metadata


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
