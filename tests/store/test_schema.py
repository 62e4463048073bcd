"""How the tables' own types store what they are given."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from bot.store.schema import UTCDateTime

TIMES = [
    datetime(2026, 12, 6, 20, 32, 20, tzinfo=UTC),
    datetime(2026, 12, 6, 20, 32, 20, 123456, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),  # a year below 1000 keeps its four digits
    datetime(2026, 3, 8, 1, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(0), "GMT")),
]


@pytest.mark.parametrize("at", TIMES, ids=str)
def test_a_time_is_stored_on_sqlite_as_sqlalchemys_own_processors_would_store_it(at: datetime) -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime().dialect_impl(dialect)  # as a statement compiled for SQLite holds it
    assert isinstance(column, UTCDateTime)
    ours = column.bind_processor(dialect)
    generic = TypeDecorator[datetime].bind_processor(column, dialect)  # process_bind_param, then the impl's
    assert ours is not None and generic is not None
    assert ours(at) == generic(at)
    assert ours(None) is None


def test_a_time_without_a_zone_is_refused_on_sqlite() -> None:
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2026, 12, 6, 20, 0))


def test_a_time_in_any_zone_is_read_back_as_the_same_instant_in_utc() -> None:
    table = Table("times", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": at} for at in TIMES])
        read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read == TIMES
    assert all(at.tzinfo is UTC for at in read)
