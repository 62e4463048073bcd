"""POST /api/events: a store's batch of events, behind a token; a retry is harmless and a bad
item refuses the batch, naming each problem, with nothing stored."""

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.schema import store_events
from tests.conftest import ClientFactory, Phone, services_of

TOKEN = "events-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(events_token=TOKEN, admin_token="admin-secret")


def event(n: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{n}",
        "phone": "(415) 555-0123",
        "type": "checkout_started",
        "occurred_at": "2026-11-26T10:00:00-05:00",
        "properties": {
            "checkout_id": f"chk-{n}",
            "total_price": "129.95",
            "currency": "USD",
            "abandoned_checkout_url": "https://acme.example/cart/recover?key=k",
            "line_items": [{"title": "Trail runner", "quantity": 1, "price": "129.95"}],
        },
        **changes,
    }


async def stored(app: Any) -> list[Any]:
    async with services_of(app).engine.connect() as conn:
        return list((await conn.execute(select(store_events).order_by(store_events.c.id))).all())


async def test_a_batch_is_stored_tied_to_the_subscriber_and_a_retry_stores_nothing(app: Any) -> None:
    await Phone(app, "+14155550123").text("JOIN")
    batch = {"events": [event(1), event(2, phone="+1 415 555 0199")]}
    first = await app.post("/api/events", json=batch, headers=AUTH)
    again = await app.post("/api/events", json=batch, headers=AUTH)
    assert first.status == 200 and again.status == 200
    assert await first.json() == {"stored": 2, "repeated": 0, "customers": 1, "attributed": 0}
    assert await again.json() == {"stored": 0, "repeated": 2, "customers": 1, "attributed": 0}
    rows = await stored(app)
    assert [(r.external_id, r.phone, r.subscriber_id is not None) for r in rows] == [
        ("evt-1", "+14155550123", True),
        ("evt-2", "+14155550199", False),  # a customer's event: kept, never a reason to text them
    ]
    assert rows[0].properties["line_items"] == [{"title": "Trail runner", "quantity": 1, "price": "129.95"}]


async def test_one_bad_item_refuses_the_batch_naming_each_problem(app: Any) -> None:
    batch = [event(1), event(2, phone="call me"), event(3, occurred_at="soon"), event(4, type=None)]
    response = await app.post("/api/events", json=batch, headers=AUTH)
    assert response.status == 422
    answer = await response.json()
    assert answer["stored"] == 0
    assert [(p["index"], p["id"], p["problem"].split(":")[0]) for p in answer["problems"]] == [
        (1, "evt-2", "phone"),
        (2, "evt-3", "occurred_at"),
        (3, "evt-4", "type"),
    ]
    assert await stored(app) == []


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "not JSON"),
        (b'"events"', 400, "a list of events"),
        (b"\xff\xfe", 400, "not JSON"),
    ],
)
async def test_a_body_that_is_no_batch_is_a_400_naming_it(
    app: Any, body: bytes, status: int, says: str
) -> None:
    response = await app.post("/api/events", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == status
    assert says in await response.text()


async def test_more_than_a_thousand_events_or_four_megabytes_are_refused(app: Any) -> None:
    many = await app.post("/api/events", json=[event(n) for n in range(1_001)], headers=AUTH)
    assert many.status == 413 and "at most 1,000 events" in await many.text()
    huge = await app.post("/api/events", data=b"[" + b" " * (5 * 1024 * 1024) + b"]", headers=AUTH)
    assert huge.status == 413
    assert await stored(app) == []


async def test_without_the_token_nothing_is_stored(app: Any, make_client: ClientFactory) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = await app.post("/api/events", json=[event()], headers=headers)
        assert response.status == 401
    admin = await app.post("/api/events", json=[event()], headers={"Authorization": "Bearer admin-secret"})
    assert admin.status == 200  # the admin token may do anything the store's may
    off = await make_client()
    response = await off.post("/api/events", json=[event(5)], headers=AUTH)
    assert response.status == 401 and "SMSBOT_EVENTS_TOKEN" in await response.text()


async def test_nan_or_infinity_in_properties_is_refused_not_a_503(app: Any) -> None:
    """Python's JSON reader takes NaN and Infinity; JSON (and PostgreSQL) do not."""
    body = json.dumps(
        [event(1, type="review_written", properties={"stars": float("nan"), "big": float("inf")})]
    )
    response = await app.post("/api/events", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 422
    assert "NaN and Infinity" in (await response.json())["problems"][0]["problem"]
    assert await stored(app) == []


async def test_a_body_nested_too_deep_is_a_400_not_a_503(app: Any) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await app.post("/api/events", data=deep, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 400 and "nested too deep" in await response.text()
    head = (
        '[{"id": "1", "phone": "+14155550123", "type": "page_viewed", "occurred_at": "2026-11-26T10:00:00Z", '
    )
    deep_property = head + '"properties": {"deep": ' + "[" * 5_000 + "]" * 5_000 + "}}]"
    response = await app.post("/api/events", data=deep_property, headers=AUTH)
    assert response.status == 400
    assert await stored(app) == []


async def everything_stored(app: Any) -> str:
    """Every row of every table, as text: what a privacy reviewer would search."""
    from bot.store.schema import metadata

    async with services_of(app).engine.connect() as conn:
        rows = [row for table in metadata.sorted_tables for row in (await conn.execute(select(table))).all()]
    return "\n".join(repr(tuple(row)) for row in rows)


async def test_addresses_and_payment_details_are_dropped_at_any_depth(app: Any) -> None:
    """A store may send its whole order object: no address, card or token survives, however deep."""
    nested = event(
        7,
        type="order_placed",
        properties={
            "order_id": 2003,
            "total_price": "10.00",
            "currency": "USD",
            "customer": {"first_name": "Ada", "default_address": {"address1": "12 Secret Lane"}},
            "shipping": {"method": "ground", "address": {"line1": "99 Hidden Road"}},
            "notes": [{"billing": {"zip": "94110"}}, {"payment_method": {"card": {"last4": "4242"}}}],
            "checkout_token": "tok_live_abc123",
            "deep": {"a": {"b": {"c": {"shippingAddress": "7 Deep Street"}}}},
        },
    )
    response = await app.post("/api/events", json={"events": [nested]}, headers=AUTH)
    assert response.status == 200, await response.text()
    [row] = await stored(app)
    assert row.properties["customer"] == {"first_name": "Ada"}
    assert row.properties["shipping"] == {"method": "ground"}
    assert row.properties["deep"] == {"a": {"b": {"c": {}}}}
    everything = await everything_stored(app)
    for secret in ("Secret Lane", "Hidden Road", "94110", "4242", "tok_live_abc123", "Deep Street"):
        assert secret not in everything, secret
