"""The list's data: an existing list imported (never texting anyone, never overwriting a newer
consent, all or nothing), and a number erased on request (found nowhere afterwards, its counts
kept, suppressed against any import), from the admin API, the dashboard and the command line."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from bot.pipeline.erasure import TREATMENTS
from bot.pipeline.subscriber_export import holding_tables
from bot.store import activity
from bot.store.schema import audit_log, consent_events, messages, metadata, subscribers, total_counts
from tests.conftest import ADMIN, ADMIN_TOKEN, ClientFactory, Phone, services_of
from tests.dashboard.test_auth import PASSWORD, log_in

EVENTS = {"Authorization": "Bearer events-secret"}
ANA, BEN, CY = "+14155550123", "+14155550124", "+14155550125"
LIST = (
    "Phone Number,SMS Status,Opt In Date,Source,First Name\n"
    f"{ANA},subscribed,2025-03-01T10:00:00Z,Keyword (JOIN),Ana\n"
    f"{BEN},unsubscribed,2025-03-02T10:00:00Z,popup,Ben\n"
    f"{CY[1:]},yes,2025-03-03T10:00:00Z,form,Cy\n"
)


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(
        admin_token=ADMIN_TOKEN, events_token="events-secret", dashboard_password=PASSWORD
    )


async def upload(app: Any, body: str, **query: str) -> Any:
    return await app.post(
        "/api/subscribers/import", params={"name": "old.csv", **query}, data=body, headers=ADMIN
    )


async def upload_on_the_dashboard(app: Any, body: str, name: str) -> Any:
    """The Subscribers page's upload form, sent as a browser sends it (logged in already)."""
    listing = await (await app.get("/dashboard/subscribers")).text()
    action = re.search(r'action="(/dashboard/subscribers/import\?csrf=[^"]+)"', listing)
    assert action is not None
    data = FormData()
    data.add_field("file", body.encode(), filename=name, content_type="text/csv")
    data.add_field("status", "")
    return await app.post(action.group(1).replace("&amp;", "&"), data=data)


async def rows_of(app: Any, *tables: Any) -> list[tuple[Any, ...]]:
    async with services_of(app).engine.connect() as conn:
        found = []
        for table in tables:
            found += [
                tuple(r) for r in await conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
        return found


async def test_an_imported_list_keeps_its_consent_evidence_and_queues_nothing(app: Any) -> None:
    answer = await upload(app, LIST)
    assert answer.status == 200, await answer.text()
    report = await answer.json()
    assert (report["created"], report["subscribed"], report["unsubscribed"], report["bad"]) == (3, 2, 1, 0)
    async with services_of(app).engine.connect() as conn:
        people = {r.phone: r for r in await conn.execute(select(subscribers))}
        records = list(await conn.execute(select(consent_events).order_by(consent_events.c.id)))
        queued = await conn.scalar(select(func.count()).select_from(messages))
    assert people[ANA].status == "subscribed" and people[ANA].properties == {"first_name": "Ana"}
    assert people[BEN].status == "unsubscribed" and people[CY].status == "subscribed"
    assert people[ANA].opt_in_source == "import:old.csv"
    first = records[0]
    assert (first.action, first.source, first.to_status) == (
        "imported",
        "import:old.csv",
        "subscribed",
    )
    assert records[0].text == "line 2: consented_at: 2025-03-01T10:00:00Z; source: Keyword (JOIN)"
    assert records[0].at.isoformat() == "2025-03-01T10:00:00+00:00"
    assert queued == 0  # no welcome, no confirmation, no automation
    assert (await rows_of(app, audit_log))[-1][3:] == (
        "subscriber_import",
        "old.csv: 3 rows, 3 new, 0 bad",
        None,
    )


async def test_importing_the_same_file_again_changes_nothing(app: Any) -> None:
    assert (await upload(app, LIST)).status == 200
    before = await rows_of(app, subscribers, consent_events)
    again = await (await upload(app, LIST)).json()
    assert (again["created"], again["unchanged"]) == (0, 3)
    assert await rows_of(app, subscribers, consent_events) == before


async def test_one_bad_row_and_nothing_is_imported_unless_the_good_ones_are_asked_for(app: Any) -> None:
    bad = LIST + "555,subscribed,,,\n"
    refused = await upload(app, bad)
    assert refused.status == 422
    report = await refused.json()
    assert report["written"] is False and report["problems"] == [
        "line 5: phone: '555' is not a possible phone number (a number in international form, "
        "+15125550123, or national in US)"
    ]
    assert await rows_of(app, subscribers) == []
    taken = await (await upload(app, bad, skip_bad="true")).json()
    assert (taken["written"], taken["created"], taken["bad"]) == (True, 3, 1)


async def test_a_long_list_with_a_bad_row_keeps_the_batches_before_it_and_says_so_on_the_dashboard(
    app: Any,
) -> None:
    rows = [f"+1415{2_000_000 + i:07d},subscribed,2025-03-01T10:00:00Z,form,Name{i}\n" for i in range(6_000)]
    rows[5_500] = "not a number,subscribed,,,\n"  # line 5,502: in the second batch
    body = LIST.splitlines(keepends=True)[0] + "".join(rows)
    stopped = await upload(app, body)
    assert stopped.status == 422
    report = await stopped.json()
    assert (report["written"], report["through_line"], report["stopped_at"], report["created"]) == (
        False,
        5_001,
        5_502,
        5_000,
    )
    assert len(await rows_of(app, subscribers)) == 5_000

    await log_in(app)
    page = await (await upload_on_the_dashboard(app, body, "long.csv")).text()
    assert "Stopped at line 5502: 1 of 6000 rows are bad. Lines 2–5001 were imported (0 new" in page
    assert "line 5502: phone:" in page


async def test_a_file_that_cannot_be_read_is_refused_whole_and_the_token_is_required(app: Any) -> None:
    answer = await upload(app, "Tel,Name\n+14155550123,Ana\n")
    assert answer.status == 422
    assert "no phone column" in " ".join((await answer.json())["problems"])
    assert (await app.post("/api/subscribers/import", data=LIST)).status == 401


async def test_a_stop_said_here_and_a_newer_consent_here_are_never_overwritten_by_the_file(app: Any) -> None:
    await Phone(app, ANA).text("JOIN")
    await Phone(app, ANA).text("STOP")
    await Phone(app, CY).text("JOIN")
    report = await (await upload(app, LIST.replace(f"{CY[1:]},yes", f"{CY[1:]},no"))).json()
    assert report["kept"] == 2
    assert report["kept_because"] == {
        "unsubscribed here: only their own opt-in brings them back": 1,
        "the consent kept here is newer": 1,
    }
    async with services_of(app).engine.connect() as conn:
        status = dict((await conn.execute(select(subscribers.c.phone, subscribers.c.status))).all())
    assert status[ANA] == "unsubscribed" and status[CY] == "subscribed"


async def history(app: Any) -> None:
    """Ana: joined, gave her name, texted a keyword, ordered with her address; Ben: joined."""
    order = {
        "id": "evt-1",
        "phone": ANA,
        "type": "order_placed",
        "occurred_at": "2026-11-20T10:00:00Z",
        "properties": {"order_id": 2003, "total_price": "59.00", "currency": "USD", "first_name": "Ana"},
    }
    assert (await app.post("/api/events", json={"events": [order]}, headers=EVENTS)).status == 200
    for body in ("JOIN", "Ana", "SHOES"):
        await Phone(app, ANA).text(body)
    await Phone(app, BEN).text("JOIN")


def everything(conn: Connection) -> str:
    """Every row of every table, as text: a dump of the database."""
    found = []
    for table in metadata.sorted_tables:
        found += [repr(tuple(row)) for row in conn.execute(select(table))]
    return "\n".join(found)


async def counts(app: Any) -> list[tuple[Any, ...]]:
    async with services_of(app).engine.begin() as conn:
        await conn.run_sync(activity.fold)
    return await rows_of(app, total_counts)


async def test_after_an_erase_the_number_and_the_name_are_nowhere_and_the_counts_are_kept(app: Any) -> None:
    await history(app)
    async with services_of(app).engine.connect() as conn:
        assert ANA in await conn.run_sync(everything) and "Ana" in await conn.run_sync(everything)
    before = await counts(app)
    answer = await app.post(
        f"/api/subscribers/{ANA}/erase", json={"reason": "GDPR request #7"}, headers=ADMIN
    )
    assert answer.status == 200, await answer.text()
    done = await answer.json()
    assert done["held"] is True and done["erased"] == "+14*******23" and done["redis"] == "forgotten"
    async with services_of(app).engine.connect() as conn:
        dump = await conn.run_sync(everything)
        messages_left = await conn.scalar(select(func.count()).select_from(messages))
    assert ANA not in dump and ANA[1:] not in dump and "Ana" not in dump
    assert BEN in dump  # someone else's data is theirs
    assert messages_left is not None and messages_left > 0  # the rows reports count stay, wordless
    # Every count stays; the one thing the erase adds is that it stopped her welcome flow mid-way.
    after = await counts(app)
    assert [c for c in after if c[0] != "flow_stopped"] == before
    assert [c for c in after if c[0] == "flow_stopped"] == [("flow_stopped", "welcome:3", 1, 0)]
    assert (await rows_of(app, audit_log))[-1][3:] == (
        "subscriber_erase",
        "+14*******23 by api from 127.0.0.1: GDPR request #7",
        None,  # the API: its token, no user
    )
    assert (await app.get(f"/api/subscribers/{ANA}", headers=ADMIN)).status == 404
    prefix = services_of(app).settings.redis_prefix  # this test's own keys: Redis is shared
    keys = await services_of(app).redis.keys(f"{prefix}*{ANA}*")
    assert keys == []


async def test_an_erased_number_is_not_brought_back_by_an_import_but_by_its_own_opt_in(app: Any) -> None:
    await history(app)
    assert (
        await app.post(f"/api/subscribers/{ANA}/erase", json={"reason": "asked"}, headers=ADMIN)
    ).status == 200
    report = await (await upload(app, LIST)).json()
    assert (report["erased"], report["created"]) == (1, 1)  # Ben was here already; Cy is new
    await Phone(app, ANA).text("JOIN")  # the person themselves: a subscriber anew
    async with services_of(app).engine.connect() as conn:
        status = await conn.scalar(select(subscribers.c.status).where(subscribers.c.phone == ANA))
    assert status == "subscribed"


async def test_an_erase_needs_a_reason_and_the_token(app: Any) -> None:
    assert (await app.post(f"/api/subscribers/{ANA}/erase", json={"reason": "x"})).status == 401
    assert (await app.post(f"/api/subscribers/{ANA}/erase", json={}, headers=ADMIN)).status == 400
    assert (await app.post(f"/api/subscribers/{ANA}/erase", data="[", headers=ADMIN)).status == 400


def test_every_table_that_holds_a_subscribers_rows_is_erased_from() -> None:
    assert {table.name for table in holding_tables()} == set(TREATMENTS)


async def test_the_dashboard_erases_with_a_reason_and_a_tick_and_imports_an_upload(app: Any) -> None:
    await history(app)
    await log_in(app)
    page = await (await app.get("/dashboard/subscribers", params={"phone": ANA})).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None and 'action="/dashboard/subscribers/erase"' in page
    form = {"phone": ANA, "csrf": token.group(1), "reason": "asked by phone"}
    assert (await app.post("/dashboard/subscribers/erase", data=form)).status == 400  # not ticked
    assert (
        await app.post("/dashboard/subscribers/erase", data={**form, "csrf": "x", "confirm": "yes"})
    ).status == 403
    done = await app.post("/dashboard/subscribers/erase", data={**form, "confirm": "yes"})
    assert done.status == 200 and "suppressed" in await done.text()
    imported = await upload_on_the_dashboard(app, LIST, "klaviyo.csv")
    page = await imported.text()
    assert (
        imported.status == 200
        and "1 new (1 subscribed, 0 not)" in page
        and "1 erased on request left out" in page
    )
    forged = FormData()
    forged.add_field("file", LIST.encode(), filename="x.csv")
    assert (await app.post("/dashboard/subscribers/import?csrf=x", data=forged)).status == 403


def file_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as stored on disk."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_on_sqlite_the_file_itself_holds_the_erased_number_nowhere(app: Any, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's file; PostgreSQL keeps dead rows until VACUUM, as for any delete")
    await history(app)
    assert (
        await app.post(f"/api/subscribers/{ANA}/erase", json={"reason": "asked"}, headers=ADMIN)
    ).status == 200
    async with services_of(app).engine.connect() as conn:
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    raw = await asyncio.to_thread(file_bytes, Path(database_url.split("///", 1)[1]))
    assert ANA.encode() not in raw and b"Ana" not in raw
    assert json.dumps(ANA).encode() not in raw


async def test_a_file_that_stops_being_csv_is_refused_with_its_line(app: Any) -> None:
    answer = await upload(app, f"phone,status\n{ANA},subscribed\n{BEN},{'y' * 200_000}\n")
    assert answer.status == 422
    assert (await answer.json())["problems"] == [
        "line 3: not CSV as expected: field larger than field limit (131072)"
    ]
    assert await rows_of(app, subscribers) == []
