"""Automations in the YAML: a flow's trigger, exit, limit and event-aware messages compiled, and each
mistake `smsbot check` must catch, with file:line."""

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.domain.automations import EventCondition, Trigger
from bot.domain.date_triggers import DateTrigger
from bot.program.loader import load_program
from tests.conftest import KEYWORDS
from tests.program.test_flows import errors, with_flows

CART = """\
  cart:
    trigger: {event: checkout_started, where: {total_price: {greater: 20}, currency: [USD, CAD]}}
    exit_when: {event: [order_placed, order_cancelled]}
    at_most: once per 2d
    steps:
      - wait: 30m
      - split: {on: event.total_price, branches: {">= 100": big}, else: small}
      - id: big
        send: "Your {{ event.line_items[0].title }} waits: {{ link(event.abandoned_checkout_url) }}"
        media: ["{{ event.line_items[0].image }}"]
      - end
      - id: small
        send: "Still thinking it over? {{ event.total_price | currency(event.currency) }}"
"""


def test_the_shipped_automations_compile() -> None:
    flows = load_program(KEYWORDS).program.flows
    cart = flows["abandoned_checkout"].automation
    assert cart.trigger == Trigger(
        "checkout_started", (EventCondition("abandoned_checkout_url", "is_set", True),)
    )
    assert cart.exit_when == {"order_placed"} and cart.at_most == timedelta(hours=48)
    assert not cart.transactional
    assert flows["order_confirmation"].automation.transactional
    assert flows["shipping_confirmation"].automation.trigger == Trigger("order_fulfilled")
    assert flows["welcome"].automation.trigger is None
    assert flows["birthday_treat"].automation.on_date == DateTrigger("birthday", time(10, 0))
    win_back = flows["win_back"].automation
    assert win_back.trigger == Trigger("order_placed", delay=timedelta(days=60))
    assert win_back.exit_when == {"order_placed"} and win_back.starts_on == "60 days after order_placed"
    review = flows["review_request"].automation
    assert review.trigger == Trigger("order_fulfilled", delay=timedelta(days=7)) and review.per == "order_ref"


def test_a_flow_with_a_trigger_compiles_its_conditions_limit_and_event_aware_steps(
    keywords_copy: Path,
) -> None:
    flow = load_program(with_flows(keywords_copy, CART)).program.flows["cart"]
    assert flow.automation.trigger == Trigger(
        "checkout_started",
        (EventCondition("total_price", "greater", 20), EventCondition("currency", "one_of", ["USD", "CAD"])),
    )
    assert flow.automation.exit_when == {"order_placed", "order_cancelled"}
    assert flow.automation.at_most == timedelta(days=2)
    assert flow.steps[1].split_on == "event.total_price" and flow.steps[1].branches == {">= 100": "big"}


@pytest.mark.parametrize(
    ("flows", "says"),
    [
        ("  f:\n    triger: {event: order_placed}\n    steps: [end]\n", "unknown triger"),
        ("  f:\n    trigger: {event: Order Placed}\n    steps: [end]\n", "expected an event type"),
        ("  f:\n    trigger: {event: [a, b]}\n    steps: [end]\n", "expected one event"),
        (
            "  f:\n    trigger: {event: order_placed, where: {total_price: {above: 1}}}\n    steps: [end]\n",
            "one of equals",
        ),
        (
            "  f:\n    trigger: {event: order_placed}\n    at_most: twice a day\n    steps: [end]\n",
            "once per 48h",
        ),
        (
            "  f:\n    trigger: {event: order_placed}\n    transactional: maybe\n    steps: [end]\n",
            "true or false",
        ),
        ("  f:\n    steps:\n      - send: 'Your {{ event.order_name }}'\n", "uses event"),
        (
            "  f:\n    steps:\n      - split: {on: event.total_price, else: x}\n      - id: x\n        send: hi\n",
            "only a flow with a trigger",
        ),
        (
            "  f:\n    trigger: order_placed\n    steps:\n      - send: hi\n        media: ['{{ basket }}']\n",
            "uses basket",
        ),
        ("  f:\n    steps:\n      - send: hi\n        media: ['picture.png']\n", "expected an http(s) URL"),
        ("  f:\n    trigger: order_placed\n    per: order_id\n    steps: [end]\n", "such as event.order_ref"),
        ("  f:\n    trigger: order_placed\n    fresh_for: soon\n    steps: [end]\n", "expected 2h"),
        ("  f:\n    trigger: {date: first_name}\n    steps: [end]\n", "'first_name' is not a date property"),
        ("  f:\n    trigger: {enters: nobody}\n    steps: [end]\n", "enters: no segment nobody"),
        ("  f:\n    trigger: {enters: vip, days: 2}\n    steps: [end]\n", "expected {enters: a_segment}"),
        ("  f:\n    trigger: {date: birthday, at: '25:00'}\n    steps: [end]\n", "expected a time of day"),
        ("  f:\n    trigger: {date: birthday, every: year}\n    steps: [end]\n", "expected {date: birthday"),
        ("  f:\n    trigger: {after: order_placed}\n    steps: [end]\n", "expected a number of days"),
        (
            "  f:\n    trigger: {after: order_placed, days: 0}\n    steps: [end]\n",
            "expected a number of days",
        ),
        (
            "  f:\n    trigger: {after: order_placed, days: 5, unless: Order}\n    steps: [end]\n",
            "expected an event",
        ),
    ],
)
def test_each_automation_mistake_is_named_with_its_line(keywords_copy: Path, flows: str, says: str) -> None:
    found = errors(with_flows(keywords_copy, flows))
    assert any(says in problem and "test-flows.yaml:" in problem for problem in found), found


@pytest.mark.parametrize(
    ("send", "warned"),
    [
        ("'Your {{ event.order_name }} is here'", ["order_name"]),
        ("'Your {{ event.order_name | default(\"order\") }} is here'", []),
        ("'Here{% if event.tracking_url %}: {{ link(event.tracking_url) }}{% endif %}'", []),
        (
            "'{{ event.line_items[0].title }} for {{ event.total_price | currency(event.currency) }}'",
            ["line_items"],
        ),
    ],
)
def test_check_warns_of_each_event_field_read_without_a_default(
    keywords_copy: Path, send: str, warned: list[str]
) -> None:
    flows = f"  f:\n    trigger: order_placed\n    steps:\n      - send: {send}\n"
    found = load_program(with_flows(keywords_copy, flows)).warnings
    said = [str(p) for p in found if "without a default" in str(p) and "test-flows.yaml:5" in str(p)]
    assert [s.split("reads event.")[1].split()[0] for s in said] == warned


def test_the_shipped_automations_read_no_event_field_without_a_default() -> None:
    found = load_program(KEYWORDS).warnings
    assert [str(p) for p in found if "without a default" in str(p)] == []
