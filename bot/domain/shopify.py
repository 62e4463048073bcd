"""Shopify's webhooks as store events: the signature, and each topic's payload reduced to what
automations, segments and attribution need (items, totals, currency, cart and tracking URLs, the
customer's first name), never addresses or payment details."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.coupons import discount_codes
from bot.domain.store_events import (
    CHECKOUT_STARTED,
    ORDER_PLACED,
    EventProblem,
    StoreEvent,
    line_items,
    money,
    parse_time,
    store_phone,
    text_field,
    url_field,
)

TOPICS = {
    "checkouts/create": CHECKOUT_STARTED,
    "checkouts/update": CHECKOUT_STARTED,
    "orders/create": ORDER_PLACED,
    "orders/paid": "order_paid",
    "orders/fulfilled": "order_fulfilled",
    "orders/cancelled": "order_cancelled",
}
# When it happened, by topic: the payload's own time, first found.
_WHEN = {
    "checkouts/create": ("created_at", "updated_at"),
    "checkouts/update": ("updated_at", "created_at"),
    "orders/create": ("created_at", "processed_at"),
    "orders/paid": ("processed_at", "updated_at"),
    "orders/fulfilled": ("updated_at",),
    "orders/cancelled": ("cancelled_at", "updated_at"),
}


def signed(body: bytes, given: str | None, secret: str) -> bool:
    """X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body, keyed by the secret."""
    if not given or not secret:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, given.strip().encode("ascii", "replace"))


@dataclass(frozen=True)
class Skipped:
    """A webhook answered 200 and not stored (Shopify drops a subscription that keeps failing)."""

    reason: str


def from_webhook(
    topic: str, webhook_id: str, payload: Any, default_country: str, triggered_at: datetime
) -> StoreEvent | Skipped:
    """The event a webhook tells of; Skipped when it tells of none we keep; EventProblem when its
    payload is not what Shopify sends."""
    kind = TOPICS.get(topic)
    if kind is None:
        return Skipped(f"topic {topic!r} is not one smsbot reads")
    if not isinstance(payload, Mapping):
        raise EventProblem("expected a JSON object")
    if topic == "checkouts/update" and payload.get("completed_at"):
        return Skipped("a completed checkout: its order comes as orders/create")
    phone = _phone(payload, default_country)
    if phone is None:
        return Skipped("no phone number on it: nobody to tie it to")
    is_order = topic.startswith("orders/")
    total = money(payload.get("total_price"), payload.get("currency") or payload.get("presentment_currency"))
    properties = {
        "total_price": str(total.amount),
        "currency": total.currency,
        "line_items": line_items(payload.get("line_items")),
        "first_name": text_field(_customer(payload).get("first_name"), "customer.first_name"),
        **(_order(payload) if is_order else _checkout(payload)),
    }
    ref = payload.get("id") if is_order else payload.get("token") or payload.get("id")
    return StoreEvent(
        source="shopify",
        external_id=webhook_id,
        type=kind,
        phone=phone,
        occurred_at=_when(payload, topic, triggered_at),
        properties={k: v for k, v in properties.items() if v is not None},
        order_ref=text_field(ref, "id"),
        value_minor=total.minor,
        currency=total.currency,
    )


def _customer(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    customer = payload.get("customer")
    return customer if isinstance(customer, Mapping) else {}


def _phone(payload: Mapping[str, Any], default_country: str) -> str | None:
    """The customer's phone: the first that is a number of those on the order or checkout, the
    customer and the addresses (read for the number only; no address is kept). None when none is
    given; the first one's problem when none is a number."""
    places = [payload, _customer(payload)]
    places += [
        a for a in (payload.get("billing_address"), payload.get("shipping_address")) if isinstance(a, Mapping)
    ]
    problems = []
    for raw in (p["phone"] for p in places if p.get("phone")):
        try:
            return store_phone(raw, default_country)
        except EventProblem as exc:
            problems.append(exc)
    if problems:
        raise problems[0]
    return None


def _checkout(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "checkout_id": text_field(payload.get("token") or payload.get("id"), "token"),
        "abandoned_checkout_url": url_field(payload.get("abandoned_checkout_url"), "abandoned_checkout_url"),
    }


def _order(payload: Mapping[str, Any]) -> dict[str, Any]:
    tracking = _tracking(payload.get("fulfillments"))
    return {
        "order_id": text_field(payload.get("id"), "id"),
        "order_name": text_field(payload.get("name"), "name"),
        "checkout_id": text_field(payload.get("checkout_token"), "checkout_token"),
        "order_status_url": url_field(payload.get("order_status_url"), "order_status_url"),
        "cancel_reason": text_field(payload.get("cancel_reason"), "cancel_reason"),
        "discount_codes": discount_codes(payload) or None,  # a coupon code given by smsbot is redeemed
        **tracking,
    }


def _tracking(fulfillments: Any) -> dict[str, Any]:
    """The last fulfilment's carrier, tracking number and URL."""
    if not isinstance(fulfillments, list) or not fulfillments or not isinstance(fulfillments[-1], Mapping):
        return {}
    last = fulfillments[-1]
    numbers, urls = last.get("tracking_numbers") or [], last.get("tracking_urls") or []
    number = last.get("tracking_number") or (numbers[0] if isinstance(numbers, list) and numbers else None)
    link = last.get("tracking_url") or (urls[0] if isinstance(urls, list) and urls else None)
    return {
        "tracking_company": text_field(last.get("tracking_company"), "fulfillments.tracking_company"),
        "tracking_number": text_field(number, "fulfillments.tracking_number"),
        "tracking_url": url_field(link, "fulfillments.tracking_url"),
    }


def _when(payload: Mapping[str, Any], topic: str, triggered_at: datetime) -> datetime:
    for key in _WHEN[topic]:
        if payload.get(key):
            return parse_time(payload[key], key)
    return triggered_at
