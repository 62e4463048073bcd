"""Store events: what a shop tells us (a checkout started, an order placed, paid, fulfilled,
cancelled, or any type of its own), checked and reduced to what automations, segments and
attribution need. Addresses and payment details are never kept.

Pure: a raw item in, a `StoreEvent` or an `EventProblem` naming the field out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
from babel.numbers import get_currency_precision

CHECKOUT_STARTED = "checkout_started"
ORDER_PLACED = "order_placed"
ORDER_CANCELLED = "order_cancelled"
ORDER_REFUNDED = "order_refunded"  # total_price: what was refunded; without it, the whole order
KNOWN_TYPES = (
    CHECKOUT_STARTED,
    ORDER_PLACED,
    "order_paid",
    "order_fulfilled",
    ORDER_CANCELLED,
    ORDER_REFUNDED,
)
REQUIRED = {ORDER_PLACED: ("total_price", "currency")}  # properties an event of the type always has
MAX_BATCH = 1_000  # events per call of POST /api/events
MAX_ID = 200
MAX_ITEMS = 100  # line items kept per event
MAX_TEXT = 500  # a title, a URL
MAX_PROPERTIES = 16_384  # characters of an event's own properties, as JSON
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,49}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class EventProblem(ValueError):
    """What is wrong with an event, naming the field (`phone: ...`)."""


@dataclass(frozen=True)
class StoreEvent:
    source: str  # "api" | "shopify"
    external_id: str  # the store's id of this event (a retry carries the same)
    type: str
    phone: str  # E.164
    occurred_at: datetime
    properties: Mapping[str, Any]
    order_ref: str | None = None  # the order or checkout it is about: ties an order to its checkout
    value_minor: int | None = None  # total_price in the currency's minor units (cents)
    currency: str | None = None


@dataclass(frozen=True)
class Money:
    minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-_precision(self.currency))


@lru_cache(maxsize=512)
def _precision(currency: str) -> int:
    """Digits after the point in the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def store_phone(raw: Any, default_country: str) -> str:
    """A phone as stores write it ("(415) 555-0123", "+1 415…", "00 44 …"), in E.164; a number
    without its country is read as the store's `default_country`."""
    if not isinstance(raw, str | int) or isinstance(raw, bool) or not str(raw).strip():
        raise EventProblem("phone: expected the customer's phone number")
    return _e164(str(raw).strip()[:64], default_country)


@lru_cache(maxsize=65536)  # a store's customers come back: parsing a number is not free
def _e164(text: str, default_country: str) -> str:
    if any(c.isalpha() for c in text):  # "555-555-SHIP": not turned into keypad digits
        raise EventProblem(f"phone: {text[:40]!r} has letters in it")
    try:
        number = phonenumbers.parse(text, default_country)
    except phonenumbers.NumberParseException as exc:
        raise EventProblem(f"phone: {text[:40]!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise EventProblem(f"phone: {text[:40]!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_time(raw: Any, field: str = "occurred_at") -> datetime:
    """An ISO 8601 time with its offset ("2026-11-26T10:00:00-05:00", "…Z"), in UTC."""
    if not isinstance(raw, str):
        raise EventProblem(f"{field}: expected an ISO 8601 time with its offset")
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise EventProblem(f"{field}: {raw[:40]!r} is not an ISO 8601 time") from exc
    if at.tzinfo is None:
        raise EventProblem(f"{field}: {raw[:40]!r} has no offset (add Z or +HH:MM)")
    return at.astimezone(UTC)


def money(raw: Any, currency: Any, field: str = "total_price") -> Money:
    """A price ("129.95" or 129.95) in a currency ("USD"): exact, in minor units."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if not _CURRENCY.fullmatch(code):
        raise EventProblem("currency: expected an ISO 4217 code such as USD")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise EventProblem(f"{field}: expected an amount such as 129.95")
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise EventProblem(f"{field}: {str(raw)[:40]!r} is not an amount") from exc
    if not amount.is_finite() or amount < 0 or amount > Decimal("1e12"):
        raise EventProblem(f"{field}: expected an amount from 0 up")
    return Money(int(amount.scaleb(_precision(code)).to_integral_value()), code)


def line_items(raw: Any) -> list[dict[str, Any]]:
    """Title, quantity, price, product and image of each line; nothing else of it."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise EventProblem("line_items: expected a list")
    kept = []
    for n, item in enumerate(raw[:MAX_ITEMS]):
        if not isinstance(item, Mapping):
            raise EventProblem(f"line_items[{n}]: expected an object")
        line = {
            "title": text_field(item.get("title") or item.get("name"), f"line_items[{n}].title"),
            "quantity": _quantity(item.get("quantity", 1), n),
            "price": _amount_text(item.get("price"), f"line_items[{n}].price"),
            "product_id": text_field(item.get("product_id"), f"line_items[{n}].product_id"),
            "sku": text_field(item.get("sku"), f"line_items[{n}].sku"),
            "image": url_field(_image(item), f"line_items[{n}].image"),
        }
        kept.append({key: value for key, value in line.items() if value is not None})
    return kept


def _image(item: Mapping[str, Any]) -> Any:
    image = item.get("image") or item.get("image_url")
    return image.get("src") if isinstance(image, Mapping) else image


def text_field(raw: Any, field: str) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise EventProblem(f"{field}: expected text")
    return str(raw)[:MAX_TEXT]


def _quantity(raw: Any, n: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 1_000_000:
        raise EventProblem(f"line_items[{n}].quantity: expected a whole number from 0 up")
    return raw


def _amount_text(raw: Any, field: str) -> str | None:
    if raw is None:
        return None
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise EventProblem(f"{field}: {str(raw)[:40]!r} is not an amount") from exc
    if isinstance(raw, bool) or not amount.is_finite() or amount < 0:
        raise EventProblem(f"{field}: expected an amount from 0 up")
    return str(amount)


def url_field(raw: Any, field: str) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not raw.startswith(("https://", "http://")) or len(raw) > 2_000:
        raise EventProblem(f"{field}: expected an http(s) URL")
    return raw


# Never kept from an event's own properties, at any depth: a store may send its whole order object
# (`customer.default_address`, `shipping.address.line1`, `payment.card`).
_PRIVATE = re.compile(r"address|payment|card|billing|iban|account_number|password|token", re.IGNORECASE)
MAX_DEPTH = 32  # nesting kept at most; deeper values are dropped, not kept unread


def without_private(value: Any, depth: int = 0) -> Any:
    """`value` with every key naming an address, a payment or a secret dropped, however deep."""
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {
            str(k): without_private(v, depth + 1) for k, v in value.items() if not _PRIVATE.search(str(k))
        }
    if isinstance(value, list | tuple):
        return [without_private(v, depth + 1) for v in value]
    return value


def from_api(raw: Any, default_country: str) -> StoreEvent:
    """One item of POST /api/events: {id, phone, type, occurred_at, properties}."""
    if not isinstance(raw, Mapping):
        raise EventProblem("expected an object {id, phone, type, occurred_at, properties}")
    event_id = raw.get("id")
    if (
        isinstance(event_id, bool)
        or not isinstance(event_id, str | int)
        or not 0 < len(str(event_id)) <= MAX_ID
    ):
        raise EventProblem(f"id: expected the event's own id (text, up to {MAX_ID} characters)")
    kind = raw.get("type")
    if not isinstance(kind, str) or not _TYPE.fullmatch(kind):
        raise EventProblem("type: expected a name such as order_placed (a-z, 0-9, _)")
    given = raw.get("properties", {})
    if not isinstance(given, Mapping):
        raise EventProblem("properties: expected an object")
    properties = without_private(given)
    if len(_json(properties)) > MAX_PROPERTIES:
        raise EventProblem(f"properties: more than {MAX_PROPERTIES:,} characters")
    return _known(
        StoreEvent(
            source="api",
            external_id=str(event_id),
            type=kind,
            phone=store_phone(raw.get("phone"), default_country),
            occurred_at=parse_time(raw.get("occurred_at")),
            properties=properties,
        )
    )


def _known(event: StoreEvent) -> StoreEvent:
    """The properties automations rely on, checked and normalised: the total and its currency
    (required for an order), line items, the cart and tracking URLs, the order or checkout id."""
    props = dict(event.properties)
    total = None
    if "total_price" in props or event.type == ORDER_PLACED:
        total = money(props.get("total_price"), props.get("currency"))
        props["total_price"], props["currency"] = str(total.amount), total.currency
    if "line_items" in props:
        props["line_items"] = line_items(props["line_items"])
    for key in ("abandoned_checkout_url", "tracking_url", "order_status_url"):
        if key in props:
            props[key] = url_field(props[key], f"properties.{key}")
    ref = props.get("order_id") if event.type.startswith("order_") else props.get("checkout_id")
    return StoreEvent(
        source=event.source,
        external_id=event.external_id,
        type=event.type,
        phone=event.phone,
        occurred_at=event.occurred_at,
        properties={k: v for k, v in props.items() if v is not None},
        order_ref=text_field(ref, "properties.order_id") if ref is not None else event.order_ref,
        value_minor=total.minor if total else None,
        currency=total.currency if total else None,
    )


def _json(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:  # NaN, Infinity: Python reads them, JSON (and PostgreSQL) does not
        raise EventProblem("properties: NaN and Infinity are not numbers JSON can hold") from exc
    except RecursionError:
        raise EventProblem("properties: nested too deep") from None
