"""Which events start a flow, how a split reads the event, and what a run's message says of it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.automations import (
    Automation,
    EventCondition,
    NotStarted,
    Trigger,
    compare,
    refusal,
    run_event,
    run_key,
)
from bot.domain.flow_runner import RunState, Send, advance, first_state
from bot.domain.store_events import StoreEvent
from bot.domain.subscription import Status
from bot.domain.voice import SubscriberState
from bot.program.loader import load_program
from tests.conftest import KEYWORDS

AT = datetime(2026, 11, 26, 15, tzinfo=UTC)
CART = StoreEvent(
    source="api",
    external_id="e1",
    type="checkout_started",
    phone="+14155550123",
    occurred_at=AT,
    properties={
        "total_price": "129.95",
        "currency": "USD",
        "first_name": "Ana",
        "tags": ["vip", "shoes"],
        "abandoned_checkout_url": "https://acme.example/cart?key=k",
        "line_items": [
            {"title": "Trail runner", "quantity": 1, "price": "129.95", "image": "https://cdn.example/t.png"}
        ],
    },
    order_ref="c1",
)


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (EventCondition("total_price", "greater", 100), True),
        (EventCondition("total_price", "less", 100), False),
        (EventCondition("total_price", "equals", 129.95), True),
        (EventCondition("currency", "equals", "usd"), True),
        (EventCondition("currency", "one_of", ["CAD", "EUR"]), False),
        (EventCondition("tags", "contains", "vip"), True),
        (EventCondition("discount_code", "is_set", True), False),
        (EventCondition("discount_code", "is_set", False), True),
        (EventCondition("first_name", "greater", 3), False),  # not a number: never greater
    ],
)
def test_a_condition_reads_the_events_properties(condition: EventCondition, holds: bool) -> None:
    assert condition.holds(CART.properties) is holds


def test_a_trigger_needs_its_type_and_every_condition() -> None:
    assert Trigger("checkout_started", (EventCondition("total_price", "greater", 100),)).matches(CART)
    assert not Trigger("order_placed").matches(CART)
    assert not Trigger("checkout_started", (EventCondition("total_price", "greater", 200),)).matches(CART)


@pytest.mark.parametrize(
    ("value", "branch", "passes"),
    [
        ("129.95", "> 100", True),
        ("100", "> 100", False),
        ("100", ">= 100", True),
        (None, "< 5", False),
        ("x", "> 1", False),
    ],
)
def test_a_split_branch_may_be_a_comparison(value: Any, branch: str, passes: bool) -> None:
    assert compare(value, branch) is passes


def test_a_branch_that_is_no_comparison_is_matched_as_a_value() -> None:
    assert compare("shoes", "shoes") is None and compare("5", ">x") is None


def subscriber(**changes: Any) -> SubscriberState:
    state = SubscriberState(phone="+14155550123", status=Status.SUBSCRIBED, language="en", properties={})
    return replace(state, **changes)


def test_the_shipped_cart_reminder_names_the_product_and_shows_its_picture() -> None:
    program = load_program(KEYWORDS).program
    waiting = advance(program, RunState("abandoned_checkout", 0, event=run_event(CART)), subscriber(), AT)
    assert waiting.state is not None and waiting.state.event is not None  # the wait keeps the event
    went = advance(program, replace(waiting.state, due_at=None), subscriber(), AT)
    [sent] = went.actions
    assert isinstance(sent, Send)
    assert "Hi Ana, your Trail runner is still in your cart" in sent.text and "COMEBACK15" in sent.text
    assert sent.media == ("https://cdn.example/t.png",)


def test_a_subscribers_own_first_name_wins_and_a_cart_without_a_picture_goes_as_sms() -> None:
    program = load_program(KEYWORDS).program
    event = run_event(
        replace(CART, properties={**CART.properties, "line_items": [{"title": "Socks", "quantity": 3}]})
    )
    went = advance(
        program,
        RunState("abandoned_checkout", 1, event=event),
        subscriber(properties={"first_name": "Bea"}),
        AT,
    )
    [sent] = went.actions
    assert isinstance(sent, Send)
    assert "Hi Bea, your Socks" in sent.text and sent.media == ()


def test_a_run_that_begins_with_a_wait_starts_past_it_due_when_it_ends() -> None:
    flows = load_program(KEYWORDS).program.flows
    cart = first_state(flows["abandoned_checkout"], {"type": "checkout_started"}, AT)
    assert (cart.step, cart.due_at, cart.event) == (1, AT + timedelta(hours=1), {"type": "checkout_started"})
    thanks = first_state(flows["order_confirmation"], None, AT)
    assert (thanks.step, thanks.due_at) == (0, AT)


def test_an_event_starts_nothing_within_the_limit_or_after_its_exit_came() -> None:
    limited = Automation(Trigger("checkout_started"), frozenset({"order_placed"}), timedelta(hours=48))
    assert refusal(limited, CART, None, [("order_placed", None)], AT) is None
    assert (
        refusal(limited, CART, AT - timedelta(hours=47), [("order_placed", None)], AT) == NotStarted.AT_MOST
    )
    assert refusal(limited, CART, AT - timedelta(hours=49), [("order_placed", None)], AT) is None
    assert (
        refusal(limited, CART, None, [("order_placed", AT + timedelta(minutes=5))], AT) == NotStarted.EXITED
    )  # ordered after it began
    assert (
        refusal(limited, CART, None, [("order_placed", AT - timedelta(days=3))], AT) is None
    )  # an older order


def test_an_event_older_than_the_automations_freshness_starts_nothing() -> None:
    cart = Automation(Trigger("checkout_started"), frozenset({"order_placed"}), timedelta(hours=48))
    fresh = cart.freshness(timedelta(hours=1))
    assert fresh == timedelta(hours=2)  # its own hour's wait, and an hour more
    assert (
        refusal(cart, CART, None, [("order_placed", None)], AT + timedelta(hours=1, minutes=59), fresh)
        is None
    )
    assert (
        refusal(cart, CART, None, [("order_placed", None)], AT + timedelta(days=40), fresh)
        == NotStarted.STALE
    )
    thanks = Automation(Trigger("order_placed"), transactional=True)
    assert thanks.freshness(timedelta(0)) == timedelta(hours=6)
    told = Automation(Trigger("order_placed"), fresh_for=timedelta(minutes=30))
    assert told.freshness(timedelta(hours=5)) == timedelta(minutes=30)


def test_a_flow_run_per_event_has_a_key_per_order_and_no_at_most_between_orders() -> None:
    per_order = Automation(Trigger("order_placed"), at_most=timedelta(hours=48), per="order_ref")
    assert run_key(per_order, CART) == "c1"
    assert run_key(per_order, replace(CART, order_ref=None)) == "id:e1"  # no key: the event's own id
    assert run_key(Automation(Trigger("order_placed")), CART) == ""
    assert refusal(per_order, CART, AT - timedelta(minutes=1), [("order_placed", None)], AT) is None
    shipped = Automation(Trigger("order_fulfilled"), per="event_id")
    assert run_key(shipped, CART) == "e1"


def test_the_shipped_order_and_shipping_news_run_once_per_order_and_per_shipment() -> None:
    flows = load_program(KEYWORDS).program.flows
    assert flows["order_confirmation"].automation.per == "order_ref"
    assert flows["shipping_confirmation"].automation.per == "event_id"
    assert flows["abandoned_checkout"].automation.per is None
