"""The statements run for every message and every second are answered from their indexes.

No functional test notices a scan until the tables are large: SQLite picked the (status, due_at)
index, every active run, to find one subscriber's runs; PostgreSQL's generic plan for a prepared
statement cannot use a partial index whose status the query only binds as a parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, make_url
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement, Executable

from bot.pipeline import automations, campaigns, clicks, gating, store_events, subscriber_import, talks
from bot.store import db, statements

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)

# statement, parameters, the index that must answer it
HOT = [
    ("the runs that fall due", statements.DUE_RUNS, {"until": NOW, "limit": 10}, "ix_flow_runs_due"),
    (
        "the messages that fall due",
        statements.DUE_MESSAGES,
        {"until": NOW, "limit": 10},
        "ix_messages_outbox",
    ),
    ("a batch's subscribers' runs", statements.ACTIVE_RUNS, {"ids": [1, 2, 3]}, "uq_flow_runs_active"),
    (
        "a campaign's due recipients",
        campaigns._DUE,
        {"campaign": 1, "until": NOW, "limit": 10},
        "ix_campaign_recipients_pending",
    ),
    (
        "campaign messages due soon",
        statements.CAMPAIGN_BACKLOG,
        {"until": NOW},
        "ix_messages_outbox",
    ),
    (
        "smart sending: the marketing that reached them or waits",
        gating._MARKETING_OF,
        {"ids": [1, 2], "since": NOW},
        "ix_messages_subscriber_id_id",
    ),
    ("a tap on a tracked link", clicks._LINKS_BY_CODE, {"codes": ["Ab3dEf9h"]}, "uq_links_code"),
    (
        "STOP ending their runs",
        statements.CANCEL_RUNS,
        {"b_subscriber": 1, "b_now": NOW},
        "uq_flow_runs_active",
    ),
    (
        "an answer moving a run on",
        statements.MOVE_RUN,
        {
            "b_subscriber": 1,
            "b_flow": "welcome",
            "b_key": "",
            "b_status": "active",
            "b_step": 1,
            "b_waiting": False,
            "b_asked_again": False,
            "b_due_at": NOW,
            "b_ended_at": None,
            "b_now": NOW,
        },
        "uq_flow_runs_active",
    ),
    (
        "an order already stored",
        store_events._ORDERS_STORED,
        {"refs": ["1001"]},
        "ix_store_events_order_ref_type",
    ),
    (
        "the store's phones' subscribers",
        store_events._SUBSCRIBERS,
        {"phones": ["+14155550123"]},
        "sqlite_autoindex_subscribers_1",  # the phone's unique constraint
    ),
    (
        "an automation's last run",
        automations._LAST_STARTED,
        {"ids": [1, 2], "flows": ["abandoned_checkout"]},
        "ix_flow_runs_flow_subscriber_id_started_at",
    ),
    (
        "orders credited: their last click and message",
        store_events._ORDERS,
        {"ids": [1, 2]},
        "ix_clicks_subscriber_id_at",
    ),
    (
        "an automation's exit events",
        automations._LAST_EVENT,
        {"ids": [1, 2], "types": ["order_placed"]},
        "ix_store_events_subscriber_id_type_occurred_at",
    ),
]


@contextmanager
def explaining(conn: Connection) -> Iterator[list[Any]]:
    """Run statements as EXPLAIN QUERY PLAN instead, with their real parameters; collect the plans."""
    plans: list[Any] = []

    def before(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> tuple[str, Any]:
        return "EXPLAIN QUERY PLAN " + statement, parameters

    def after(_c: Any, cursor: Any, *_: Any) -> None:
        plans.append(cursor.fetchall())

    event.listen(conn.engine, "before_cursor_execute", before, retval=True)
    event.listen(conn.engine, "after_cursor_execute", after)
    try:
        yield plans
    finally:
        event.remove(conn.engine, "before_cursor_execute", before)
        event.remove(conn.engine, "after_cursor_execute", after)


async def sqlite_plan(database_url: str, statement: Executable, parameters: dict[str, Any]) -> str:
    def explain(conn: Connection) -> str:
        with explaining(conn) as plans:
            conn.execute(statement, parameters)
        return "\n".join(str(row[-1]) for row in plans[-1])

    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(explain)
    finally:
        await engine.dispose()


async def postgresql_generic_plan(
    database_url: str, statement: Executable, parameters: dict[str, Any]
) -> str:
    """The plan a prepared statement gets once PostgreSQL stops planning it per parameter values,
    as asyncpg's cached statements do; with sequential scans priced out, so that an empty table
    still shows whether an index can serve it at all."""
    import asyncpg

    expanding = {name: value for name, value in parameters.items() if isinstance(value, list)}
    assert isinstance(statement, ClauseElement)
    dialect = postgresql_asyncpg.dialect()  # type: ignore[no-untyped-call]
    compiled = (statement.params(**parameters) if expanding else statement).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    conn = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off")
        await conn.execute(f"PREPARE hot AS {compiled.string}")
        positions = getattr(compiled, "positiontup", None) or ()  # a SQLCompiler's, in order
        nulls = ", ".join(["NULL"] * len(positions))  # each parameter carries its type
        rows = await conn.fetch(f"EXPLAIN EXECUTE hot({nulls})" if nulls else "EXPLAIN EXECUTE hot")
    finally:
        await conn.close()
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(("what", "statement", "parameters", "index"), HOT, ids=[h[0] for h in HOT])
async def test_hot_statements_use_their_index_not_a_scan(
    database_url: str, what: str, statement: Executable, parameters: dict[str, Any], index: str
) -> None:
    if database_url.startswith("sqlite"):
        plan = await sqlite_plan(database_url, statement, parameters)
        assert index in plan, f"{what}:\n{plan}"
    else:  # which of several usable indexes serves an empty table is a coin toss there
        plan = await postgresql_generic_plan(database_url, statement, parameters)
    assert "SCAN" not in plan and "Seq Scan" not in plan, f"{what}:\n{plan}"
    assert "Index" in plan or "INDEX" in plan, f"{what}:\n{plan}"


async def test_whether_a_campaign_still_has_messages_to_hand_over_reads_only_what_waits(
    database_url: str,
) -> None:
    """Asked every few tenths of a second while a campaign's last messages go out: through the
    outbox's index (only what waits), never the campaign's (every
    message it sent, walked from the oldest)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's choice between the two indexes; PostgreSQL plans by its statistics")
    plan = await sqlite_plan(database_url, campaigns._ANY_UNSENT, {"campaign": 1})
    assert "ix_messages_outbox" in plan and "ix_messages_campaign" not in plan, plan


@pytest.mark.parametrize(
    ("statement", "parameters", "table", "index"),
    [
        (
            subscriber_import._KNOWN,
            {"phones": ["+14155550123"]},
            "subscribers",
            "sqlite_autoindex_subscribers_1",
        ),
        (
            subscriber_import._DECIDING,
            {"phones": ["+14155550123"]},
            "subscribers",
            "sqlite_autoindex_subscribers_1",
        ),
        (subscriber_import._ERASED, {"digests": ["ab"]}, "suppressions", "sqlite_autoindex_suppressions_1"),
    ],
    ids=["numbers already here", "what a decision reads", "numbers erased"],
)
async def test_an_imports_batch_of_numbers_given_as_one_list_is_searched_in_the_index(
    database_url: str, statement: dict[str, Executable], parameters: dict[str, Any], table: str, index: str
) -> None:
    """A batch's 5,000 numbers are one parameter (bot/store/lists.py): each is searched for in the
    index, the table is never scanned."""
    if database_url.startswith("sqlite"):
        plan = await sqlite_plan(database_url, statement["sqlite"], parameters)
        assert (
            f"SEARCH {table} USING COVERING INDEX {index}" in plan
            or f"SEARCH {table} USING INDEX {index}" in plan
        ), plan
        assert f"SCAN {table}" not in plan, plan
    else:
        plan = await postgresql_generic_plan(database_url, statement["postgresql"], parameters)
        assert "Seq Scan" not in plan and "Index" in plan, plan


def test_their_open_conversations_are_read_with_the_status_written_in_not_bound() -> None:
    """A bound status leaves PostgreSQL's generic plan unable to use the index of open
    conversations: it read every open conversation through the status index, each batch (as an
    empty table's plan is a coin toss, the statement itself is checked)."""
    sql = str(talks._OPEN_OF.compile(dialect=postgresql_asyncpg.dialect()))  # type: ignore[no-untyped-call]
    assert "conversations.status = 'open'" in sql, sql


async def test_a_statement_prepared_while_the_tables_were_empty_uses_its_index_once_they_have_grown(
    database_url: str,
) -> None:
    """A pooled connection keeps its prepared statements. Planned once for all while `messages` was
    empty, the lookup of a batch's MessageSids would scan the whole table each batch, more of it
    with every message, until PostgreSQL next analysed it."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite plans each statement from the schema, never from the table's size")
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            pg = raw.driver_connection
            assert pg is not None
            types, places = ", ".join(["varchar"] * 8), ", ".join(f"${n}" for n in range(1, 9))
            sids = ", ".join(f"'SM{n}'" for n in range(1, 9))  # a batch's, as under load
            await pg.execute(f"PREPARE sids({types}) AS SELECT sid FROM messages WHERE sid IN ({places})")
            for _ in range(6):  # after five runs PostgreSQL may settle on one plan for all values
                await pg.execute(f"EXECUTE sids({sids})")
            subscriber = await pg.fetchval(
                "INSERT INTO subscribers (phone, status, country, properties, created_at, updated_at)"
                " VALUES ('+14155550100', 'subscribed', 'US', '{}', now(), now()) RETURNING id"
            )
            await pg.execute(
                "INSERT INTO messages (subscriber_id, direction, body, media_urls, sid, status, created_at,"
                " updated_at) SELECT $1, 'inbound', 'hi', '[]', 'SM' || g, 'received', now(), now()"
                " FROM generate_series(1, 20000) AS g",
                subscriber,
            )
            # (The driver's own calls commit as they go; the fixture empties the tables before each test.)
            plan = "\n".join(row[0] for row in await pg.fetch(f"EXPLAIN EXECUTE sids({sids})"))
    finally:
        await engine.dispose()
    assert "uq_messages_sid" in plan and "Seq Scan" not in plan, plan
