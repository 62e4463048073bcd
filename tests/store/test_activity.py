"""The dashboard's counts, kept by triggers as the data arrives, equal what the tables hold: the
same figures come out of counting the history afresh, folded or not."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Connection

from bot.domain.activity import shifts
from bot.http.admin import read, write
from bot.store import activity
from bot.store.schema import activity_deltas, hourly_counts, messages
from tests.conftest import ClientFactory, Phone, services_of

ANA, BEN, CLEO = "+14155550101", "+14155550102", "+14155550103"
REPLIES = "SELECT count(*) FROM messages WHERE direction = 'outbound' AND reply_to IS NOT NULL"


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client()


def _figures(conn: Connection) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for count in activity.read(conn, 0, 10**7):  # every day there is
        found[(count.metric, count.label)] += count.n
        if count.amount:
            found[(count.metric + ":amount", count.label)] += count.amount
    return +found  # what nets to zero is not there


def _recount(conn: Connection) -> None:
    conn.execute(activity_deltas.delete())
    conn.execute(hourly_counts.delete())
    activity.fill(conn)


async def _carrier_reports(app: Any) -> None:
    """Three campaign-less flow messages handed over: one delivered, one failed, one delivered
    and then reported undelivered (a carrier may say so later)."""
    services = services_of(app).services

    def change(conn: Connection) -> None:
        now = datetime.now(UTC)
        rows = [
            {
                "subscriber_id": 1,
                "direction": "outbound",
                "body": f"step {i}",
                "media_urls": [],
                "status": "pending",
                "run_id": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(3)
        ]
        ids = [
            conn.execute(messages.insert().values(**row).returning(messages.c.id)).scalar_one()
            for row in rows
        ]
        for i in ids:
            conn.execute(update(messages).where(messages.c.id == i).values(status="queued", handed_at=now))
        conn.execute(update(messages).where(messages.c.id == ids[0]).values(status="delivered"))
        conn.execute(
            update(messages).where(messages.c.id == ids[1]).values(status="failed", error_code=30007)
        )
        conn.execute(update(messages).where(messages.c.id == ids[2]).values(status="delivered"))
        conn.execute(
            update(messages).where(messages.c.id == ids[2]).values(status="undelivered", error_code=30003)
        )

    await write(services, change)


async def test_counts_kept_as_texts_arrive_equal_a_count_of_the_history(app: Any) -> None:
    await Phone(app, ANA).text("JOIN")
    await Phone(app, BEN).text("JION")  # a misspelling, caught
    await Phone(app, CLEO).text("JOIN")
    await Phone(app, CLEO).text("STOP")
    await Phone(app, ANA).text("JOIN")  # already in: a text, no second join
    await _carrier_reports(app)
    services = services_of(app).services
    live = await read(services, _figures)

    assert live[("joined", "JOIN")] == 3 and live[("joined_keyword", "JOIN")] == 3
    assert live[("texts", "JOIN")] == 4 and live[("misspelt", "JOIN")] == 1
    assert live[("left", "STOP")] == 1 and live[("received", "")] == 5
    assert live[("sent", "flow")] == 3 and live[("delivered", "flow")] == 1
    assert live[("recipients", "flow")] == 1  # one run's three messages: one recipient
    assert live[("failed", "30007")] == 1 and live[("failed", "30003")] == 1
    replies = await read(services, lambda conn: conn.execute(text(REPLIES)).scalar_one())
    assert live[("sent", "reply")] == replies >= 5  # every text had its answer, some in two parts

    assert await write(services, activity.fold, 3) == 3  # the worker folds a batch at a time
    assert await read(services, _figures) == live  # partly folded: the same figures
    assert await write(services, activity.fold) > 0
    assert await write(services, activity.fold, 3) == 0  # nothing left
    assert await read(services, _figures) == live  # folded: the same figures
    await write(services, _recount)
    assert await read(services, _figures) == live  # counted afresh from the tables: the same


async def test_a_tap_counts_once_as_a_clicker_and_an_order_adds_its_revenue(app: Any) -> None:
    await Phone(app, ANA).text("JOIN")
    services = services_of(app).services
    now = datetime.now(UTC)

    def change(conn: Connection) -> None:
        stamp = now.replace(tzinfo=None).isoformat(" ") if conn.dialect.name == "sqlite" else now
        values: dict[str, Any] = {"at": stamp}
        conn.execute(
            text(
                "INSERT INTO links (id, code, url, subscriber_id, origin, origin_name, campaign_id, created_at)"
                " VALUES (1, 'abc', 'https://acme.example', 1, 'campaign', 'sale', 7, :at)"
            ),
            values,
        )
        for preview in (True, False, False):
            conn.execute(
                text(
                    "INSERT INTO clicks (link_id, subscriber_id, campaign_id, preview, at)"
                    " VALUES (1, 1, 7, :preview, :at)"
                ),
                {**values, "preview": preview},
            )
        conn.execute(
            text(
                "INSERT INTO store_events (id, source, external_id, type, phone, properties, occurred_at,"
                " received_at) VALUES (1, 'api', 'o1', 'order_placed', :phone, '{}', :at, :at)"
            ),
            {**values, "phone": ANA},
        )
        conn.execute(
            text(
                "INSERT INTO conversions (event_id, subscriber_id, via, origin, origin_name, campaign_id,"
                " opt_in_source, value_minor, currency, occurred_at)"
                " VALUES (1, 1, 'click', 'campaign', 'sale', 7, 'JOIN', 12995, 'USD', :at)"
            ),
            values,
        )

    await write(services, change)
    live = await read(services, _figures)
    assert live[("clicks", "campaign")] == 2 and live[("clickers", "campaign")] == 1
    assert (
        live[("conversions", "campaign:USD")] == 1 and live[("conversions:amount", "campaign:USD")] == 12995
    )
    assert live[("revenue_source:amount", "JOIN:USD")] == 12995
    await write(services, _recount)
    assert await read(services, _figures) == live


async def test_the_database_places_each_hour_in_its_local_day(app: Any) -> None:
    """Two texts two hours apart, either side of midnight in New York but on one UTC day."""
    await Phone(app, ANA).text("JOIN")
    await Phone(app, BEN).text("JOIN")
    services = services_of(app).services
    late, early = datetime(2026, 11, 27, 4, 30, tzinfo=UTC), datetime(2026, 11, 27, 5, 30, tzinfo=UTC)

    def move(conn: Connection) -> None:  # the counts as if the joins had come then
        conn.execute(activity_deltas.delete())
        conn.execute(hourly_counts.delete())
        for subscriber, at in ((1, late), (2, early)):
            stamp = at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at
            conn.execute(
                text("UPDATE consent_events SET at = :at WHERE subscriber_id = :id"),
                {"at": stamp, "id": subscriber},
            )
        activity.fill(conn)

    await write(services, move)
    zone = ZoneInfo("America/New_York")
    first, end = int(late.timestamp() // 3600) - 48, int(late.timestamp() // 3600) + 48
    found = await read(services, activity.read, first, end, shifts(zone, first, end))
    joined = sorted((c.day, c.n) for c in found if c.metric == "joined")
    assert joined == [(date(2026, 11, 26), 1), (date(2026, 11, 27), 1)]
    in_utc = await read(services, activity.read, first, end)
    assert [(c.day, c.n) for c in in_utc if c.metric == "joined"] == [(date(2026, 11, 27), 2)]


async def test_a_batch_of_texts_written_at_once_is_counted_as_its_history(app: Any) -> None:
    """Texts arriving together are written in one transaction, their rows a statement a table
    (PostgreSQL counts a statement's rows at once): the counts equal a count of the history."""
    phones = [Phone(app, f"+1415555{n:04d}") for n in range(200, 240)]
    await asyncio.gather(*(phone.text("JOIN") for phone in phones))
    await asyncio.gather(
        *(phone.text(word) for phone, word in zip(phones, ["STOP", "HELP", "JION", "hi"] * 10, strict=True))
    )
    services = services_of(app).services
    live = await read(services, _figures)
    assert live[("joined", "JOIN")] == 40 and live[("left", "STOP")] == 10 and live[("received", "")] == 80
    assert live[("misspelt", "JOIN")] == 10
    await write(services, _recount)
    counted = {"joined", "joined_keyword", "left", "texts", "misspelt", "received", "sent"}
    recounted = await read(services, _figures)
    assert {k: n for k, n in recounted.items() if k[0] in counted} == {
        k: n for k, n in live.items() if k[0] in counted
    }  # what the batch's inserts count (a flow's moves are counted as they happen, not refilled)
