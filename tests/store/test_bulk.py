"""Many rows through one prebuilt statement: stored as Core would store them, in the rows' order;
on PostgreSQL a plain INSERT's rows go in one statement (its columns as arrays), not one a row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.http.admin import write
from bot.store.bulk import executemany, write_apart
from bot.store.schema import keyword_events, messages, subscribers
from bot.store.statements import INSERT_KEYWORD_EVENTS, INSERT_MESSAGES, SUBSCRIBER_FIELDS, UPDATE_SUBSCRIBER
from tests.conftest import ClientFactory, Phone, services_of


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client()


def _events(n: int, at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "subscriber_id": 1,
            "keyword": "JOIN" if i % 2 else "SHOES",
            "text": f"join {i} ’é😀" if i % 3 else "",
            "message_sid": f"SM{i:032d}",
            "at": at,
            "misspelt": bool(i % 2),
        }
        for i in range(n)
    ]


def _statements(conn: Connection, run: Any) -> list[str]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    engine = conn.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


async def test_rows_written_many_at_once_are_stored_as_given_in_their_order(app: Any) -> None:
    await Phone(app, "+14155550101").text("JOIN")  # subscriber 1
    at = datetime(2026, 12, 7, 12, 30, 15, 123456, tzinfo=UTC)
    rows = _events(25, at)

    def change(conn: Connection) -> tuple[list[str], list[dict[str, Any]]]:
        seen = _statements(conn, lambda: executemany(conn, INSERT_KEYWORD_EVENTS, rows))
        stored = conn.execute(
            select(keyword_events)
            .where(keyword_events.c.message_sid.like("SM000%"))
            .order_by(keyword_events.c.id)
        ).mappings()
        return seen, [dict(row) for row in stored]

    seen, stored = await write(services_of(app).services, change)
    assert [{k: v for k, v in row.items() if k != "id"} for row in stored] == rows  # in order, as given
    inserts = [s for s in seen if s.startswith("INSERT INTO keyword_events")]
    if services_of(app).services.settings.database_url.startswith("postgresql"):
        assert len(inserts) == 1 and "unnest" in inserts[0]  # one statement for 25 rows
    else:
        assert inserts and "unnest" not in inserts[0]


async def test_json_and_nulls_go_through_the_arrays_as_through_a_row(app: Any) -> None:
    await Phone(app, "+14155550101").text("JOIN")
    now = datetime.now(UTC)
    media = ["https://example.com/a.jpg", "https://example.com/b.png"]
    row: dict[str, Any] = {
        "subscriber_id": 1,
        "direction": "outbound",
        "body": "pic",
        "media_urls": media,
        "status": "pending",
        "error_code": None,
        "created_at": now,
        "updated_at": now,
        "ref": None,
    }
    rows = [{**row, "body": f"pic {i}", "media_urls": media[: i % 3]} for i in range(3)]

    def change(conn: Connection) -> list[Any]:
        executemany(conn, INSERT_MESSAGES, rows)
        found = select(messages.c.body, messages.c.media_urls, messages.c.error_code, messages.c.ref)
        return list(conn.execute(found.where(messages.c.body.like("pic %")).order_by(messages.c.id)))

    stored = await write(services_of(app).services, change)
    assert [tuple(r) for r in stored] == [(r["body"], r["media_urls"], None, None) for r in rows]


async def test_rows_updated_many_at_once_each_take_their_own_values_and_a_repeated_key_goes_in_order(
    app: Any,
) -> None:
    for n in range(5):
        await Phone(app, f"+1415555011{n}").text("JOIN")
    services = services_of(app).services
    now = datetime.now(UTC)

    def change(conn: Connection) -> tuple[list[str], list[tuple[Any, ...]]]:
        people = [dict(r) for r in conn.execute(select(subscribers).order_by(subscribers.c.id)).mappings()]
        updates = [
            {
                "b_id": person["id"],
                "b_updated_at": now,
                **{f"b_{name}": person[name] for name in SUBSCRIBER_FIELDS},
                "b_properties": {"n": i},
                "b_language": "es" if i % 2 else "fr",
            }
            for i, person in enumerate(people)
        ]
        seen = _statements(conn, lambda: executemany(conn, UPDATE_SUBSCRIBER, updates))
        again = [
            {**updates[0], "b_properties": {"n": "first"}},
            {**updates[0], "b_properties": {"n": "last"}},
        ]
        seen += _statements(conn, lambda: executemany(conn, UPDATE_SUBSCRIBER, again))
        found = select(subscribers.c.properties, subscribers.c.language).order_by(subscribers.c.id)
        return seen, [tuple(row) for row in conn.execute(found)]

    seen, stored = await write(services, change)
    assert stored == [({"n": "last"}, "fr"), *[({"n": i}, "es" if i % 2 else "fr") for i in range(1, 5)]]
    updates = [s for s in seen if s.startswith("UPDATE subscribers")]
    if services.settings.database_url.startswith("postgresql"):
        assert "unnest" in updates[0] and "unnest" not in updates[-1]  # a key twice: a row at a time
    else:
        assert not any("unnest" in s for s in updates)


async def test_rows_nobody_listens_for_are_stored_as_those_a_listener_sees(app: Any) -> None:
    # With no one listening for statements, SQLite's rows go straight to the driver's cursor.
    await Phone(app, "+14155550101").text("JOIN")
    at = datetime(2026, 12, 7, 8, 0, 1, 654321, tzinfo=UTC)
    watched, unwatched = (
        _events(7, at),
        [{**row, "message_sid": row["message_sid"] + "x"} for row in _events(7, at)],
    )

    def change(conn: Connection) -> list[dict[str, Any]]:
        _statements(conn, lambda: executemany(conn, INSERT_KEYWORD_EVENTS, watched))
        executemany(conn, INSERT_KEYWORD_EVENTS, unwatched)
        stored = conn.execute(
            select(keyword_events)
            .where(keyword_events.c.message_sid.like("SM000%"))
            .order_by(keyword_events.c.id)
        ).mappings()
        return [{k: v for k, v in row.items() if k != "id"} for row in stored]

    stored = await write(services_of(app).services, change)
    assert stored == [*watched, *unwatched]


async def test_a_row_the_database_refuses_is_refused_as_core_refuses_it(app: Any) -> None:
    event_row = _events(1, datetime.now(UTC))[0]
    unknown = {**event_row, "subscriber_id": 999_999}  # no such subscriber: the foreign key refuses it

    def change(conn: Connection) -> None:
        executemany(conn, INSERT_KEYWORD_EVENTS, [unknown])

    with pytest.raises(IntegrityError):
        await write(services_of(app).services, change)


async def test_writes_to_tables_of_their_own_go_as_one_statement_on_postgresql_and_store_each_row(
    app: Any,
) -> None:
    await Phone(app, "+14155550101").text("JOIN")  # subscriber 1
    at = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    events = _events(3, at)
    sent = [
        {
            "subscriber_id": 1,
            "direction": "outbound",
            "body": f"together {i}",
            "media_urls": [],
            "status": "queued",
            "created_at": at,
            "updated_at": at,
        }
        for i in range(2)
    ]
    changed = {name: None for name in SUBSCRIBER_FIELDS} | {"status": "subscribed", "language": "es"}
    update = [{"b_id": 1, "b_updated_at": at, **{f"b_{k}": v for k, v in changed.items()}}]

    def change(conn: Connection) -> tuple[list[str], list[Any], list[Any], Any]:
        writes = [(INSERT_KEYWORD_EVENTS, events), (INSERT_MESSAGES, sent), (UPDATE_SUBSCRIBER, update)]
        seen = _statements(conn, lambda: write_apart(conn, writes))
        texts = conn.execute(
            select(keyword_events.c.text).where(keyword_events.c.at == at).order_by(keyword_events.c.id)
        )
        bodies = conn.execute(
            select(messages.c.body).where(messages.c.body.like("together %")).order_by(messages.c.id)
        )
        person = conn.execute(select(subscribers.c.status, subscribers.c.language)).one()
        return seen, list(texts.scalars()), list(bodies.scalars()), person

    seen, texts, bodies, person = await write(services_of(app).services, change)
    assert texts == [e["text"] for e in events]
    assert bodies == ["together 0", "together 1"]
    assert tuple(person) == ("subscribed", "es")
    if services_of(app).services.settings.database_url.startswith("postgresql"):
        assert len(seen) == 1 and seen[0].startswith("WITH w0 AS (INSERT INTO keyword_events"), seen
    else:
        assert len(seen) == 3, seen
