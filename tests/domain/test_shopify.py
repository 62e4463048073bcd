"""Shopify's webhooks: the signature, and each topic's payload as the event we keep."""

import copy
from datetime import UTC, datetime

import pytest

from bot.domain.shopify import Skipped, from_webhook, signed
from bot.domain.store_events import EventProblem, StoreEvent
from tests.shopify_payloads import CHECKOUT, ORDER, SECRET, body, fulfilled, signature

TRIGGERED = datetime(2026, 11, 26, 15, 0, 6, tzinfo=UTC)


def event(topic: str, payload: object) -> StoreEvent:
    found = from_webhook(topic, "wh-1", payload, "US", TRIGGERED)
    assert isinstance(found, StoreEvent)
    return found


def test_the_signature_is_the_base64_hmac_of_the_raw_body() -> None:
    raw = body(ORDER)
    assert signed(raw, signature(raw), SECRET)
    assert not signed(raw, signature(raw, "another secret"), SECRET)
    assert not signed(raw + b" ", signature(raw), SECRET)  # the body changed after signing
    assert not signed(raw, None, SECRET) and not signed(raw, "", SECRET) and not signed(raw, "é", SECRET)


def test_an_order_keeps_its_items_total_and_customer_name_but_no_address_or_payment() -> None:
    placed = event("orders/create", ORDER)
    assert (placed.source, placed.external_id, placed.type) == ("shopify", "wh-1", "order_placed")
    assert placed.phone == "+14155550123"  # the customer's: the addresses' "555-555-SHIP" is no number
    assert placed.occurred_at == datetime(2026, 11, 26, 15, tzinfo=UTC)
    assert (placed.order_ref, placed.value_minor, placed.currency) == ("820982911946154508", 39800, "USD")
    assert placed.properties == {
        "total_price": "398.00",
        "currency": "USD",
        "first_name": "John",
        "order_id": "820982911946154508",
        "order_name": "#9999",
        "checkout_id": "d9a4d5f1a8e6a0b2c3d4e5f6a7b8c9d0",
        "order_status_url": ORDER["order_status_url"],
        "line_items": [
            {
                "title": "IPod Nano - 8GB",
                "quantity": 1,
                "price": "199.00",
                "product_id": "632910392",
                "sku": "IPOD2008PINK",
            }
        ]
        * 2,
    }
    assert "123 Shipping Street" not in repr(placed) and "4242" not in repr(placed)


def test_a_checkout_keeps_its_cart_url_and_product_images() -> None:
    started = event("checkouts/create", CHECKOUT)
    assert started.type == "checkout_started" and started.order_ref == "123123123"
    assert started.properties["abandoned_checkout_url"] == CHECKOUT["abandoned_checkout_url"]
    assert started.properties["line_items"] == [
        {
            "title": "Trail runner",
            "quantity": 2,
            "price": "199.00",
            "product_id": "632910392",
            "sku": "TR-RED-10",
            "image": "https://cdn.shopify.com/s/files/1/trail-runner.png",
        }
    ]


def test_a_fulfilment_keeps_its_carrier_tracking_number_and_url() -> None:
    shipped = event("orders/fulfilled", fulfilled())
    assert shipped.type == "order_fulfilled"
    assert shipped.occurred_at == datetime(2026, 11, 27, 13, 30, tzinfo=UTC)
    assert {k: shipped.properties[k] for k in ("tracking_company", "tracking_number", "tracking_url")} == {
        "tracking_company": "UPS",
        "tracking_number": "1Z2345",
        "tracking_url": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z2345",
    }


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("orders/paid", "order_paid"),
        ("orders/cancelled", "order_cancelled"),
        ("checkouts/update", "checkout_started"),
    ],
)
def test_each_topic_is_its_event(topic: str, kind: str) -> None:
    payload = ORDER if topic.startswith("orders/") else CHECKOUT
    assert event(topic, payload).type == kind


def test_what_tells_of_nothing_to_keep_is_skipped_with_the_reason() -> None:
    completed = {**CHECKOUT, "completed_at": "2026-11-26T09:30:00-05:00"}
    nobody = copy.deepcopy(ORDER)
    nobody["customer"]["phone"] = None
    del nobody["billing_address"], nobody["shipping_address"]
    assert isinstance(from_webhook("checkouts/update", "w", completed, "US", TRIGGERED), Skipped)
    assert isinstance(from_webhook("products/update", "w", {"id": 1}, "US", TRIGGERED), Skipped)
    skipped = from_webhook("orders/create", "w", nobody, "US", TRIGGERED)
    assert isinstance(skipped, Skipped) and "no phone" in skipped.reason


def test_a_payload_that_is_not_shopifys_shape_is_a_problem() -> None:
    with pytest.raises(EventProblem):
        from_webhook("orders/create", "w", ["not", "an", "order"], "US", TRIGGERED)
    with pytest.raises(EventProblem, match="total_price"):
        from_webhook("orders/create", "w", {**ORDER, "total_price": "lots"}, "US", TRIGGERED)


def test_the_first_phone_that_is_a_number_is_the_customers() -> None:
    only_addresses = copy.deepcopy(ORDER)
    only_addresses["customer"]["phone"] = None
    only_addresses["shipping_address"]["phone"] = "+1 415 555 0199"
    assert event("orders/create", only_addresses).phone == "+14155550199"
    only_letters = copy.deepcopy(ORDER)
    only_letters["customer"]["phone"] = None
    with pytest.raises(EventProblem, match="SHIP"):
        from_webhook("orders/create", "w", only_letters, "US", TRIGGERED)
