"""Store events as a store sends them: checked, normalised, and reduced to what we keep."""

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.store_events import EventProblem, from_api, money, store_phone


def order(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "evt-1",
        "phone": "(415) 555-0123",
        "type": "order_placed",
        "occurred_at": "2026-11-26T10:00:00-05:00",
        "properties": {
            "order_id": 1001,
            "total_price": "129.95",
            "currency": "usd",
            "line_items": [
                {
                    "title": "Trail runner",
                    "quantity": 1,
                    "price": "129.95",
                    "image": "https://cdn.example/t.png",
                }
            ],
            "billing_address": {"address1": "1 Main St"},
            "payment_details": {"credit_card_number": "•••• 4242"},
        },
    }
    event.update(changes)
    return event


@pytest.mark.parametrize(
    "written",
    ["(415) 555-0123", "415-555-0123", "+1 415 555 0123", "1 (415) 555-0123", "+14155550123", 4155550123],
)
def test_a_phone_in_any_of_the_shapes_stores_write_it_is_one_number(written: Any) -> None:
    assert store_phone(written, "US") == "+14155550123"


def test_a_phone_without_its_country_is_read_as_the_stores_country() -> None:
    assert store_phone("020 7946 0018", "GB") == "+442079460018"
    assert store_phone("+44 20 7946 0018", "US") == "+442079460018"


@pytest.mark.parametrize("written", ["555-555-SHIP", "12", "", None, "not a number", True, ["+14155550123"]])
def test_a_phone_that_is_no_number_is_refused_naming_the_field(written: Any) -> None:
    with pytest.raises(EventProblem, match=r"^phone: "):
        store_phone(written, "US")


def test_an_order_keeps_its_total_items_and_order_but_no_address_or_payment() -> None:
    event = from_api(order(), "US")
    assert (event.source, event.external_id, event.type, event.phone) == (
        "api",
        "evt-1",
        "order_placed",
        "+14155550123",
    )
    assert event.occurred_at == datetime(2026, 11, 26, 15, tzinfo=UTC)
    assert (event.order_ref, event.value_minor, event.currency) == ("1001", 12995, "USD")
    assert event.properties == {
        "order_id": 1001,
        "total_price": "129.95",
        "currency": "USD",
        "line_items": [
            {"title": "Trail runner", "quantity": 1, "price": "129.95", "image": "https://cdn.example/t.png"}
        ],
    }


def test_money_is_kept_exactly_in_the_currencys_minor_units() -> None:
    assert money("0.10", "USD").minor == 10
    assert money(1999, "JPY").minor == 1999
    assert money("1.234", "KWD").minor == 1234
    assert str(money("19.9", "EUR").amount) == "19.90"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"id": ""}, "id: "),
        ({"id": None}, "id: "),
        ({"type": "Order Placed"}, "type: "),
        ({"occurred_at": "yesterday"}, "occurred_at: "),
        ({"occurred_at": "2026-11-26T10:00:00"}, "occurred_at: .* no offset"),
        ({"phone": "12"}, "phone: "),
        ({"properties": []}, "properties: "),
        ({"properties": {"order_id": 1, "currency": "USD"}}, "total_price: "),
        ({"properties": {"order_id": 1, "total_price": "-1", "currency": "USD"}}, "total_price: "),
        ({"properties": {"order_id": 1, "total_price": "NaN", "currency": "USD"}}, "total_price: "),
        ({"properties": {"total_price": "10", "currency": "dollars"}}, "currency: "),
        ({"properties": {"total_price": "10", "currency": "USD", "line_items": "shoes"}}, "line_items: "),
        (
            {"properties": {"total_price": "1", "currency": "USD", "line_items": [{"quantity": -1}]}},
            r"line_items\[0\]",
        ),
        (
            {"type": "checkout_started", "properties": {"abandoned_checkout_url": "javascript:alert(1)"}},
            "abandoned_checkout_url",
        ),
    ],
)
def test_a_bad_event_is_refused_naming_what_is_wrong(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(EventProblem, match=problem):
        from_api(order(**changes), "US")


def test_an_event_of_the_stores_own_type_is_kept_with_its_properties() -> None:
    event = from_api(
        order(type="review_written", properties={"stars": 5, "product": "Trail runner", "card_token": "x"}),
        "US",
    )
    assert event.type == "review_written"
    assert event.properties == {"stars": 5, "product": "Trail runner"}
    assert event.value_minor is None and event.order_ref is None


def test_an_events_properties_have_a_size_limit() -> None:
    with pytest.raises(EventProblem, match="properties: more than"):
        from_api(order(type="page_viewed", properties={"blob": "x" * 20_000}), "US")
