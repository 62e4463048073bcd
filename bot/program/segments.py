"""Segments in the keyword YAML, read into conditions and checked with file:line.

    segments:
      vip: {property: vip, equals: true}
      shoe_fans: {property: interests, contains: shoes}
      spanish: {any: [{language: es}, {opt_in_keyword: UNETE}]}
      north_america: {country: [US, CA]}
      texted_join: {texted: JOIN, within_days: 30}
      birthday_week: {property: birthday, in_next_days: 7, ignore_year: true}
      engaged_30: {engaged: {within_days: 30}}
      everyone_but_vip: {not: {segment: vip}}

A condition is one mapping: `all:` / `any:` (a list), `not:` (one condition); `status:`,
`language:`, `opt_in_source:`, `opt_in_keyword:`, `country:` (a value or a list); `subscribed:`
(after, before, within_days); `property:` with one of equals, one_of, contains, greater, less,
between, is_set, in_last_days, in_next_days; `texted:` a keyword (within_days, at_least);
`engaged:`, `clicked:` (within_days, campaign, flow), `received_campaign:` (within_days),
`in_flow:`, `finished_flow:`; `segment:` another segment; from store events, `placed_order:`
(at_least, within_days), `spent:` (over, under, currency, within_days), `started_checkout:`
(within_days, without_order), `ordered_product:` a title, id or SKU (within_days). The checker
refuses unknown properties, keywords and flows, values the property's type refuses, cycles, and
segments of more than MAX_CONDITIONS conditions. Campaigns named in a condition are checked with
the campaigns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.domain.model import Keyword
from bot.domain.properties import PropertySpec, PropertyType
from bot.domain.segments import (
    MAX_CONDITIONS,
    All,
    AnyOf,
    Clicked,
    Condition,
    DateWithin,
    Engaged,
    Field,
    InFlow,
    InSegment,
    IsOneOf,
    Not,
    Op,
    OrderedProduct,
    PlacedOrder,
    Property,
    ReceivedCampaign,
    Segment,
    Spent,
    StartedCheckout,
    Subscribed,
    Texted,
    members,
    size,
)
from bot.domain.store_events import EventProblem, money
from bot.program.context import Compiling, Loc
from bot.program.graphs import on_cycles
from bot.program.yamlfile import YamlDoc

_NUMERIC = (PropertyType.NUMBER, PropertyType.DATE)
_COUNTRY = re.compile(r"[A-Z]{2}")
MAX_DAYS = 3660  # ten years: a window longer than that is a typo


@dataclass(frozen=True)
class Known:
    """What a condition may name besides properties and other segments."""

    keywords: Mapping[str, Keyword]
    flows: frozenset[str]
    campaigns: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _At:
    c: Compiling
    doc: YamlDoc
    loc: Loc
    known: Known

    def error(self, key: str | int | None, message: str) -> None:
        self.c.error(self.doc, self.loc if key is None else [*self.loc, key], message)

    def at(self, *keys: str | int) -> _At:
        return _At(self.c, self.doc, [*self.loc, *keys], self.known)


def compile_segments(
    c: Compiling, parsed: list[tuple[YamlDoc, Mapping[str, Any]]], known: Known
) -> dict[str, Segment]:
    """Every file's `segments:`, checked; a segment with an error is left out."""
    segments: dict[str, Segment] = {}
    where: dict[str, YamlDoc] = {}
    for doc, section in parsed:
        for name, body in section.items():
            loc: Loc = ["segments", name]
            if name in where:
                c.error(doc, loc, f"segment {name} is defined twice")
                continue
            where[name] = doc
            condition = _read(_At(c, doc, loc, known), body)
            if condition is not None:
                segments[name] = Segment(name, condition)
    _check_links(c, segments, where)
    return segments


def _check_links(c: Compiling, segments: dict[str, Segment], where: Mapping[str, YamlDoc]) -> None:
    looping = on_cycles({name: members(segment.condition) for name, segment in segments.items()})
    for name, segment in list(segments.items()):
        loc: Loc = ["segments", name]
        unknown = sorted(members(segment.condition) - set(where))
        if unknown:
            c.error(where[name], loc, f"segment {name}: no segment {', '.join(unknown)}")
        if size(segment.condition) > MAX_CONDITIONS:
            c.error(where[name], loc, f"segment {name}: more than {MAX_CONDITIONS} conditions")
        if name in looping:
            c.error(where[name], loc, f"segment {name}: it includes itself through segment:")
            segments.pop(name)


def _read(at: _At, body: Any) -> Condition | None:
    if not isinstance(body, Mapping):
        at.error(None, "a condition is a mapping such as {property: vip, equals: true}")
        return None
    kinds = [key for key in body if key in _KINDS]
    if len(kinds) != 1:
        got = ", ".join(map(str, body))
        at.error(None, f"a condition needs exactly one of {', '.join(_KINDS)}; got {got}")
        return None
    return _KINDS[kinds[0]](at, body)


def _combined(at: _At, body: Mapping[str, Any]) -> Condition | None:
    if "not" in body:
        inner = _read(at.at("not"), body["not"])
        return Not(inner) if inner is not None else None
    kind = "all" if "all" in body else "any"
    items = body[kind]
    if not isinstance(items, list):
        at.error(kind, f"{kind}: expects a list of conditions")
        return None
    read = [_read(at.at(kind, i), item) for i, item in enumerate(items)]
    if any(r is None for r in read):
        return None
    conditions = tuple(r for r in read if r is not None)
    return All(conditions) if kind == "all" else AnyOf(conditions)


def _field(at: _At, body: Mapping[str, Any]) -> Condition | None:
    [key] = [k for k in body if k in Field.__members__.values()]
    raw = body[key]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and v for v in values):
        at.error(key, f"{key}: expects a value or a list of values")
        return None
    if key == Field.COUNTRY:
        values = [v.upper() for v in values]
        if not all(_COUNTRY.fullmatch(v) for v in values):
            at.error(key, "country: expects two-letter ISO codes such as US, CA, GB")
            return None
    return IsOneOf(Field(key), tuple(values))


def _property(at: _At, body: Mapping[str, Any]) -> Condition | None:
    name = str(body["property"])
    spec = at.c.properties.get(name)
    if spec is None:
        at.error("property", f"property {name}: not declared under properties:")
        return None
    if "in_last_days" in body or "in_next_days" in body:
        return _date_within(at, body, spec)
    ops = [key for key in body if key in Op.__members__.values()]
    if len(ops) != 1:
        at.error(None, f"property {name}: needs exactly one of {', '.join([*Op, *_DATE_OPS])}")
        return None
    op = Op(ops[0])
    try:
        return Property(name, op, _value(spec, op, body[op.value]))
    except ValueError as exc:
        at.error(op.value, f"property {name}: {exc}")
        return None


def _value(spec: PropertySpec, op: Op, raw: Any) -> Any:
    if op is Op.IS_SET:
        if not isinstance(raw, bool):
            raise ValueError("is_set: expects true or false")
        return raw
    if op is Op.CONTAINS:
        if spec.type is not PropertyType.LIST:
            raise ValueError(f"contains works on list properties; {spec.name} is {spec.type.value}")
        return spec.coerce([raw])[0]
    if op in (Op.GREATER, Op.LESS, Op.BETWEEN) and spec.type not in _NUMERIC:
        raise ValueError(f"{op.value} works on numbers and dates; {spec.name} is {spec.type.value}")
    if spec.type is PropertyType.LIST:
        raise ValueError(f"{spec.name} is a list: use contains")
    if op is Op.BETWEEN:
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValueError("between: expects [low, high]")
        low, high = spec.coerce(raw[0]), spec.coerce(raw[1])
        if low > high:
            raise ValueError(f"between: {raw[0]} is above {raw[1]}")
        return (low, high)
    if op is Op.ONE_OF:
        return tuple(spec.coerce(v) for v in (raw if isinstance(raw, list) else [raw]))
    return spec.coerce(raw)


def _date_within(at: _At, body: Mapping[str, Any], spec: PropertySpec) -> Condition | None:
    key = "in_last_days" if "in_last_days" in body else "in_next_days"
    if spec.type is not PropertyType.DATE:
        at.error(key, f"{key} works on date properties; {spec.name} is {spec.type.value}")
        return None
    days = _days(at, body, key)
    ignore_year = body.get("ignore_year", False)
    if not isinstance(ignore_year, bool):
        at.error("ignore_year", "ignore_year: expects true or false")
        return None
    if days is None:
        return None
    return DateWithin(spec.name, -days if key == "in_last_days" else days, ignore_year)


def _days(at: _At, body: Mapping[str, Any], key: str) -> int | None:
    """A whole number of days, 1 to MAX_DAYS (the caller knows the key is there or optional)."""
    days = body.get(key)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        at.error(key, f"{key}: expects a whole number of days, 1 to {MAX_DAYS}")
        return None
    return days


def _optional_days(at: _At, body: Mapping[str, Any]) -> tuple[bool, int | None]:
    """(valid, within_days or None)."""
    if "within_days" not in body:
        return True, None
    days = _days(at, body, "within_days")
    return days is not None, days


def _options(at: _At, body: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The mapping under `kind:` ({engaged: {within_days: 30}}), or the condition's own keys."""
    inner = body[kind]
    if isinstance(inner, Mapping):
        return inner
    if inner is None or inner is True:
        return {}
    at.error(kind, f"{kind}: expects options such as {{within_days: 30}}")
    return None


def _texted(at: _At, body: Mapping[str, Any]) -> Condition | None:
    keyword = str(body["texted"])
    if keyword not in at.known.keywords:
        at.error("texted", f"texted {keyword}: no such keyword")
        return None
    ok, within = _optional_days(at, body)
    at_least = _at_least(at, body)
    return Texted(keyword, within, at_least) if ok and at_least is not None else None


def _at_least(at: _At, body: Mapping[str, Any]) -> int | None:
    """How many times (1 unless given): a whole number, 1 or more."""
    at_least = body.get("at_least", 1)
    if isinstance(at_least, bool) or not isinstance(at_least, int) or at_least < 1:
        at.error("at_least", "at_least: expects a whole number, 1 or more")
        return None
    return at_least


def _subscribed(at: _At, body: Mapping[str, Any]) -> Condition | None:
    options = _options(at, body, "subscribed")
    if options is None:
        return None
    inner = at.at("subscribed")
    ok, within = _optional_days(inner, options)
    dates: dict[str, str | None] = {}
    for key in ("after", "before"):
        raw = options.get(key)
        try:
            dates[key] = None if raw is None else date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            inner.error(key, f"{key}: expects a date, YYYY-MM-DD")
            ok = False
    if ok and within is None and not any(dates.values()):
        inner.error(None, "subscribed: expects after, before or within_days")
        ok = False
    return Subscribed(dates["after"], dates["before"], within) if ok else None


def _engaged(at: _At, body: Mapping[str, Any]) -> Condition | None:
    options = _options(at, body, "engaged")
    if options is None:
        return None
    days = _days(at.at("engaged"), options, "within_days")
    return Engaged(days) if days is not None else None


def _clicked(at: _At, body: Mapping[str, Any]) -> Condition | None:
    options = _options(at, body, "clicked")
    if options is None:
        return None
    inner = at.at("clicked")
    ok, within = _optional_days(inner, options)
    flow = options.get("flow")
    if flow is not None and str(flow) not in at.known.flows:
        inner.error("flow", f"clicked: no flow {flow}")
        ok = False
    campaign = options.get("campaign")
    if campaign is not None and str(campaign) not in at.known.campaigns:
        inner.error("campaign", f"clicked: no campaign {campaign}")
        ok = False
    if ok:
        return Clicked(
            within, None if campaign is None else str(campaign), None if flow is None else str(flow)
        )
    return None


def _received(at: _At, body: Mapping[str, Any]) -> Condition | None:
    ok, within = _optional_days(at, body)
    if str(body["received_campaign"]) not in at.known.campaigns:
        at.error("received_campaign", f"received_campaign: no campaign {body['received_campaign']}")
        ok = False
    return ReceivedCampaign(str(body["received_campaign"]), within) if ok else None


def _in_flow(at: _At, body: Mapping[str, Any]) -> Condition | None:
    key = "in_flow" if "in_flow" in body else "finished_flow"
    flow = str(body[key])
    if flow not in at.known.flows:
        at.error(key, f"{key} {flow}: no such flow")
        return None
    return InFlow(flow, finished=key == "finished_flow")


def _segment(at: _At, body: Mapping[str, Any]) -> Condition | None:
    return InSegment(str(body["segment"]))


def _placed_order(at: _At, body: Mapping[str, Any]) -> Condition | None:
    options = _options(at, body, "placed_order")
    if options is None:
        return None
    inner = at.at("placed_order")
    ok, within = _optional_days(inner, options)
    at_least = _at_least(inner, options)
    return PlacedOrder(at_least, within) if ok and at_least is not None else None


def _spent(at: _At, body: Mapping[str, Any]) -> Condition | None:
    options = _options(at, body, "spent")
    if options is None:
        return None
    inner = at.at("spent")
    ok, within = _optional_days(inner, options)
    currency = str(options.get("currency", "USD")).upper()
    bounds: dict[str, int | None] = {}
    for key in ("over", "under"):
        try:
            bounds[key] = None if options.get(key) is None else money(options[key], currency, key).minor
        except EventProblem as exc:
            inner.error(key if key in options else "currency", f"spent: {exc}")
            ok = False
    if ok and bounds["over"] is None and bounds["under"] is None:
        inner.error(None, "spent: expects over, under or both (an amount in the currency, default USD)")
        ok = False
    return Spent(currency, bounds["over"], bounds["under"], within) if ok else None


def _started_checkout(at: _At, body: Mapping[str, Any]) -> Condition | None:
    options = _options(at, body, "started_checkout")
    if options is None:
        return None
    inner = at.at("started_checkout")
    days = _days(inner, options, "within_days")
    without = options.get("without_order", True)
    if not isinstance(without, bool):
        inner.error("without_order", "without_order: expects true or false")
        return None
    return StartedCheckout(days, without) if days is not None else None


def _ordered_product(at: _At, body: Mapping[str, Any]) -> Condition | None:
    product = body["ordered_product"]
    if not isinstance(product, str | int) or isinstance(product, bool) or not str(product).strip():
        at.error("ordered_product", "ordered_product: expects a product's title, id or SKU")
        return None
    ok, within = _optional_days(at, body)
    return OrderedProduct(str(product).strip(), within) if ok else None


_DATE_OPS = ("in_last_days", "in_next_days")
_KINDS: dict[str, Callable[[_At, Mapping[str, Any]], Condition | None]] = {
    "all": _combined,
    "any": _combined,
    "not": _combined,
    **{field.value: _field for field in Field},
    "subscribed": _subscribed,
    "property": _property,
    "texted": _texted,
    "engaged": _engaged,
    "clicked": _clicked,
    "received_campaign": _received,
    "in_flow": _in_flow,
    "finished_flow": _in_flow,
    "segment": _segment,
    "placed_order": _placed_order,
    "spent": _spent,
    "started_checkout": _started_checkout,
    "ordered_product": _ordered_product,
}
