"""Segments: who a message is for, as conditions (data). `program/segments` reads them from YAML and
checks them; `store/segments` compiles them to SQL, the same meaning on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum
from typing import Any, cast

MAX_CONDITIONS = 100  # per segment, as Klaviyo caps them: a segment is read by people


@dataclass(frozen=True)
class All:
    conditions: tuple[Condition, ...]  # none: everyone


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


class Field(StrEnum):
    """Subscriber fields a condition names directly."""

    STATUS = "status"
    LANGUAGE = "language"
    OPT_IN_SOURCE = "opt_in_source"
    OPT_IN_KEYWORD = "opt_in_keyword"
    COUNTRY = "country"  # from the number: "US", "CA"


@dataclass(frozen=True)
class IsOneOf:
    field: Field
    values: tuple[str, ...]


class Op(StrEnum):
    EQUALS = "equals"
    ONE_OF = "one_of"
    CONTAINS = "contains"  # a list property holds the value
    GREATER = "greater"
    LESS = "less"
    BETWEEN = "between"  # [low, high], both included
    IS_SET = "is_set"  # value True: has a value; False: has none


@dataclass(frozen=True)
class Property:
    name: str
    op: Op
    value: Any  # already coerced to the property's type (a tuple for one_of and between)


@dataclass(frozen=True)
class DateWithin:
    """A date property within the last (days < 0) or next (days > 0) N days of today, today
    included; `ignore_year` compares the month and day only (birthdays, anniversaries)."""

    name: str
    days: int
    ignore_year: bool = False


@dataclass(frozen=True)
class Subscribed:
    """When they subscribed: after / before a date (ISO, the brand's zone), or within N days."""

    after: str | None = None
    before: str | None = None
    within_days: int | None = None


@dataclass(frozen=True)
class Engaged:
    """Texted us or clicked a tracked link (link previews do not count) within N days."""

    within_days: int


@dataclass(frozen=True)
class Clicked:
    """Clicked a tracked link, of one campaign or flow if named, ever or within N days."""

    within_days: int | None = None
    campaign: str | None = None
    flow: str | None = None


@dataclass(frozen=True)
class ReceivedCampaign:
    """A campaign's message (any round of it) was handed to the carrier for them."""

    campaign: str
    within_days: int | None = None


@dataclass(frozen=True)
class InFlow:
    flow: str
    finished: bool = False  # False: running now; True: ran to its end at least once


@dataclass(frozen=True)
class Texted:
    keyword: str  # the keyword's name: its alternates and misspellings are recorded under it
    within_days: int | None = None
    at_least: int = 1


@dataclass(frozen=True)
class InSegment:
    name: str


# Commerce, from store events (matched on the phone: orders placed before subscribing count too).
# A cancelled order (an order_cancelled event for it) counts for none of them.


@dataclass(frozen=True)
class PlacedOrder:
    at_least: int = 1
    within_days: int | None = None


@dataclass(frozen=True)
class Spent:
    """The total of their orders in `currency` (minor units), over and/or under a bound; only
    customers who ordered (never ordering is `not: {placed_order: {}}`)."""

    currency: str
    over_minor: int | None = None
    under_minor: int | None = None
    within_days: int | None = None


@dataclass(frozen=True)
class StartedCheckout:
    """Started a checkout within N days, and (without_order) placed no order in those days."""

    within_days: int
    without_order: bool = True


@dataclass(frozen=True)
class OrderedProduct:
    """Ordered a product: a line item whose title, product id or SKU is `product`."""

    product: str
    within_days: int | None = None


Condition = (
    All
    | AnyOf
    | Not
    | IsOneOf
    | Property
    | DateWithin
    | Subscribed
    | Texted
    | Engaged
    | Clicked
    | ReceivedCampaign
    | InFlow
    | InSegment
    | PlacedOrder
    | Spent
    | StartedCheckout
    | OrderedProduct
)


@dataclass(frozen=True)
class Segment:
    name: str
    condition: Condition


def size(condition: Condition) -> int:
    """How many conditions a segment holds, counting those inside all/any/not."""
    if isinstance(condition, All | AnyOf):
        return 1 + sum(size(c) for c in condition.conditions)
    if isinstance(condition, Not):
        return 1 + size(condition.condition)
    return 1


def leaves(condition: Condition) -> list[Condition]:
    """The conditions inside all/any/not, in order."""
    if isinstance(condition, All | AnyOf):
        return [leaf for c in condition.conditions for leaf in leaves(c)]
    if isinstance(condition, Not):
        return leaves(condition.condition)
    return [condition]


def members(condition: Condition) -> set[str]:
    """The segments a condition refers to."""
    return {leaf.name for leaf in leaves(condition) if isinstance(leaf, InSegment)}


def campaigns_named(condition: Condition) -> set[str]:
    """The campaigns a condition refers to (received, clicked)."""
    named = {leaf.campaign for leaf in leaves(condition) if isinstance(leaf, ReceivedCampaign | Clicked)}
    return {name for name in named if name}


def describe(condition: Condition) -> dict[str, Any]:
    """The condition as plain data (for the API): its kind and its fields, nested."""
    kind = re.sub(r"(?<!^)(?=[A-Z])", "_", type(condition).__name__).lower()
    return {"kind": kind, **{item.name: _plain(getattr(condition, item.name)) for item in fields(condition)}}


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return describe(cast(Condition, value))  # a condition inside all/any/not
    if isinstance(value, tuple):
        return [_plain(inner) for inner in value]
    return value.value if isinstance(value, StrEnum) else value
