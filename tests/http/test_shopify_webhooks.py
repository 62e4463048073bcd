"""POST /shopify/webhooks: signed by the shop's secret, each webhook stored once; a forged, altered
or replayed webhook changes nothing."""

import copy
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.store.schema import store_events
from tests.conftest import ClientFactory, Phone, services_of
from tests.shopify_payloads import CHECKOUT, ORDER, SECRET, body, fulfilled, headers


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(shopify_secret=SECRET)


async def deliver(
    app: Any, topic: str, payload: Any, webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
) -> Any:
    raw = body(payload)
    return await app.post("/shopify/webhooks", data=raw, headers=headers(topic, webhook_id, raw))


async def count(app: Any) -> int:
    async with services_of(app).engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(store_events))).scalar_one())


async def test_an_order_a_checkout_and_a_shipment_are_stored_as_their_events(app: Any) -> None:
    await Phone(app, "+14155550123").text("JOIN")
    for n, (topic, payload) in enumerate(
        [("checkouts/create", CHECKOUT), ("orders/create", ORDER), ("orders/fulfilled", fulfilled())]
    ):
        response = await deliver(app, topic, payload, f"wh-{n}")
        assert response.status == 200, await response.text()
        assert (await response.json())["stored"] == 1
    async with services_of(app).engine.connect() as conn:
        rows = (await conn.execute(select(store_events).order_by(store_events.c.id))).all()
    assert [(r.source, r.type, r.phone, r.subscriber_id is not None) for r in rows] == [
        ("shopify", "checkout_started", "+14155550123", True),
        ("shopify", "order_placed", "+14155550123", True),
        ("shopify", "order_fulfilled", "+14155550123", True),
    ]
    assert rows[2].properties["tracking_number"] == "1Z2345"
    assert "Shipping Street" not in json.dumps([dict(r.properties) for r in rows])


async def test_a_replayed_webhook_id_changes_nothing(app: Any) -> None:
    first = await deliver(app, "orders/create", ORDER, "wh-1")
    changed = copy.deepcopy(ORDER)
    changed["total_price"] = "1.00"
    replayed = await deliver(app, "orders/create", changed, "wh-1")  # signed, but seen before
    assert (await first.json())["stored"] == 1
    assert await replayed.json() == {"stored": 0, "repeated": 1, "customers": 1, "attributed": 0}
    async with services_of(app).engine.connect() as conn:
        assert (await conn.execute(select(store_events.c.value_minor))).scalars().all() == [39800]


async def test_a_forged_or_altered_webhook_is_refused_and_stores_nothing(app: Any) -> None:
    raw = body(ORDER)
    forged = headers("orders/create", "wh-1", raw, secret="not the shop's")
    altered = headers("orders/create", "wh-2", raw)
    unsigned = {
        k: v for k, v in headers("orders/create", "wh-3", raw).items() if k != "X-Shopify-Hmac-Sha256"
    }
    assert (await app.post("/shopify/webhooks", data=raw, headers=forged)).status == 401
    assert (
        await app.post("/shopify/webhooks", data=raw.replace(b"398.00", b"0.01"), headers=altered)
    ).status == 401
    assert (await app.post("/shopify/webhooks", data=raw, headers=unsigned)).status == 401
    assert await count(app) == 0


async def test_without_a_secret_the_webhooks_are_off(make_client: ClientFactory) -> None:
    off = await make_client()
    raw = body(ORDER)
    response = await off.post("/shopify/webhooks", data=raw, headers=headers("orders/create", "w", raw))
    assert response.status == 401 and "SHOPIFY_WEBHOOK_SECRET" in await response.text()


async def test_a_signed_webhook_without_its_headers_or_json_is_a_400(app: Any) -> None:
    raw = b"{not json"
    assert (
        await app.post("/shopify/webhooks", data=raw, headers=headers("orders/create", "w", raw))
    ).status == 400
    raw = body(ORDER)
    no_id = {**headers("orders/create", "", raw)}
    assert (await app.post("/shopify/webhooks", data=raw, headers=no_id)).status == 400
    assert await count(app) == 0


async def test_a_signed_webhook_we_cannot_use_is_answered_200_with_the_reason_and_not_stored(
    app: Any,
) -> None:
    """Shopify retries a failed webhook for four hours and may then delete the subscription: a
    payload no retry can fix is acknowledged, and why it was not stored is said."""
    letters = copy.deepcopy(ORDER)
    letters["customer"]["phone"] = None
    completed = {**CHECKOUT, "completed_at": "2026-11-26T09:30:00-05:00"}
    for n, (topic, payload, says) in enumerate(
        [
            ("orders/create", letters, "phone: '555-555-SHIP' has letters in it"),
            ("checkouts/update", completed, "a completed checkout"),
            ("products/update", {"id": 1}, "not one smsbot reads"),
        ]
    ):
        response = await deliver(app, topic, payload, f"wh-{n}")
        assert response.status == 200
        answer = await response.json()
        assert answer["stored"] == 0 and says in answer["skipped"]
    assert await count(app) == 0
