"""Arbitrary store events at POST /api/events and signed arbitrary payloads at POST /shopify/webhooks:
never a 5xx, and a refused call stores nothing. Hypothesis draws them (a fixed seed), sent to one
real app (real database, real Redis)."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.store.schema import store_events
from tests.conftest import ClientFactory, services_of
from tests.shopify_payloads import CHECKOUT, ORDER, SECRET, headers

EXAMPLES = 150
TOKEN = "events-secret"
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(
        ["(415) 555-0123", "+14155550123", "555-555-SHIP", "2026-11-26T10:00:00Z", "USD", "NaN", "1e999"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["id", "phone", "type", "occurred_at", "properties"]
PROPERTIES = [
    "total_price",
    "currency",
    "line_items",
    "order_id",
    "checkout_id",
    "abandoned_checkout_url",
    "tracking_url",
]


@st.composite
def api_items(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 5)) == 0:
        return draw(values)
    item: dict[str, Any] = {
        "id": draw(st.one_of(st.text(max_size=10), st.integers(), values)),
        "phone": draw(st.one_of(scalars, st.sampled_from(["(415) 555-0123", "+447700900123"]))),
        "type": draw(
            st.sampled_from(
                [
                    "order_placed",
                    "checkout_started",
                    "order_fulfilled",
                    "review_written",
                    "Bad Type",
                    "x" * 60,
                ]
            )
        ),
        "occurred_at": draw(st.one_of(scalars, st.just("2026-11-26T10:00:00-05:00"))),
        "properties": draw(
            st.dictionaries(st.sampled_from(PROPERTIES) | st.text(max_size=8), values, max_size=5)
        ),
    }
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=2)):
        item.pop(name, None)
    return item


@st.composite
def shopify_calls(draw: st.DrawFn) -> tuple[str, str, Any]:
    topic = draw(
        st.sampled_from(
            [
                "orders/create",
                "orders/fulfilled",
                "checkouts/update",
                "checkouts/create",
                "app/uninstalled",
                "",
            ]
        )
    )
    payload: Any = copy.deepcopy(ORDER if topic.startswith("orders/") else CHECKOUT)
    for key in draw(st.lists(st.sampled_from([*payload, "customer"]), max_size=3)):
        payload[key] = draw(values)
    if draw(st.integers(0, 6)) == 0:
        payload = draw(values)
    return topic, draw(st.text(alphabet="abcdef0123456789-", max_size=40)), payload


def collect(strategy: Any) -> list[Any]:
    found: list[Any] = []

    @seed(20261126)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value: Any) -> None:
        found.append(value)

    draw()
    return found


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(events_token=TOKEN, shopify_secret=SECRET)


async def stored(app: Any) -> int:
    async with services_of(app).engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(store_events))).scalar_one())


async def test_no_batch_of_events_of_any_shape_gets_a_5xx_and_a_refused_one_stores_nothing(
    app: Any, caplog: Any
) -> None:
    caplog.set_level(logging.ERROR)
    batches = collect(st.lists(api_items(), max_size=4))
    for batch in batches:
        before = await stored(app)
        body = json.dumps({"events": batch}, allow_nan=True)
        response = await app.post(
            "/api/events",
            data=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        assert response.status < 500, (batch, response.status, await response.text())
        if response.status != 200:
            assert await stored(app) == before, batch
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_no_signed_shopify_webhook_of_any_shape_gets_a_5xx(app: Any, caplog: Any) -> None:
    caplog.set_level(logging.ERROR)
    for topic, webhook_id, payload in collect(shopify_calls()):
        raw = json.dumps(payload, allow_nan=True).encode()
        response = await app.post("/shopify/webhooks", data=raw, headers=headers(topic, webhook_id, raw))
        assert response.status < 500, (topic, payload, response.status, await response.text())
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
