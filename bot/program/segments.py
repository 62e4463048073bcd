"""Segments in the keyword YAML, read into conditions and checked with file:line.

    segments:
      vip: {property: vip, equals: true}
      shoe_fans: {property: interests, contains: shoes}
      spanish: {any: [{language: es}, {opt_in_keyword: UNETE}]}
      texted_join: {texted: JOIN, within_days: 30}
      everyone_but_vip: {not: {segment: vip}}

A condition is one mapping: `all:` / `any:` (a list), `not:` (one condition), `status:`,
`language:`, `opt_in_source:`, `opt_in_keyword:` (a value or a list), `property:` with one of
equals, one_of, contains, greater, less, is_set; `texted:` a keyword (within_days, at_least);
`segment:` another segment. The checker refuses unknown properties and keywords, values the
property's type refuses, cycles, and segments of more than MAX_CONDITIONS conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.model import Keyword
from bot.domain.properties import PropertySpec, PropertyType
from bot.domain.segments import (
    MAX_CONDITIONS,
    All,
    AnyOf,
    Condition,
    Field,
    InSegment,
    IsOneOf,
    Not,
    Op,
    Property,
    Segment,
    Texted,
    members,
    size,
)
from bot.program.context import Compiling, Loc
from bot.program.graphs import on_cycles
from bot.program.yamlfile import YamlDoc

_NUMERIC = (PropertyType.NUMBER, PropertyType.DATE)


def compile_segments(
    c: Compiling, parsed: list[tuple[YamlDoc, Mapping[str, Any]]], keywords: Mapping[str, Keyword]
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
            condition = _read(c, doc, loc, body, keywords)
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


def _read(
    c: Compiling, doc: YamlDoc, loc: Loc, body: Any, keywords: Mapping[str, Keyword]
) -> Condition | None:
    if not isinstance(body, Mapping):
        c.error(doc, loc, "a condition is a mapping such as {property: vip, equals: true}")
        return None
    kinds = [key for key in body if key in _KINDS]
    if len(kinds) != 1:
        got = ", ".join(map(str, body))
        c.error(doc, loc, f"a condition needs exactly one of {', '.join(_KINDS)}; got {got}")
        return None
    kind = kinds[0]
    if kind in ("all", "any", "not"):
        return _combined(c, doc, loc, body, keywords)
    if kind == "texted":
        return _texted(c, doc, loc, body, keywords)
    if kind == "property":
        return _property(c, doc, loc, body)
    if kind == "segment":
        return InSegment(str(body["segment"]))
    return _field(c, doc, loc, body)


def _combined(
    c: Compiling, doc: YamlDoc, loc: Loc, body: Mapping[str, Any], keywords: Mapping[str, Keyword]
) -> Condition | None:
    if "not" in body:
        inner = _read(c, doc, [*loc, "not"], body["not"], keywords)
        return Not(inner) if inner is not None else None
    kind = "all" if "all" in body else "any"
    items = body[kind]
    if not isinstance(items, list):
        c.error(doc, [*loc, kind], f"{kind}: expects a list of conditions")
        return None
    read = [_read(c, doc, [*loc, kind, i], item, keywords) for i, item in enumerate(items)]
    if any(r is None for r in read):
        return None
    conditions = tuple(r for r in read if r is not None)
    return All(conditions) if kind == "all" else AnyOf(conditions)


def _field(c: Compiling, doc: YamlDoc, loc: Loc, body: Mapping[str, Any]) -> Condition | None:
    [key] = [k for k in body if k in Field.__members__.values()]
    raw = body[key]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and v for v in values):
        c.error(doc, [*loc, key], f"{key}: expects a value or a list of values")
        return None
    return IsOneOf(Field(key), tuple(values))


def _property(c: Compiling, doc: YamlDoc, loc: Loc, body: Mapping[str, Any]) -> Condition | None:
    name = str(body["property"])
    spec = c.properties.get(name)
    ops = [key for key in body if key in Op.__members__.values()]
    if spec is None:
        c.error(doc, [*loc, "property"], f"property {name}: not declared under properties:")
        return None
    if len(ops) != 1:
        c.error(doc, loc, f"property {name}: needs exactly one of {', '.join(Op)}")
        return None
    op = Op(ops[0])
    try:
        return Property(name, op, _value(spec, op, body[op.value]))
    except ValueError as exc:
        c.error(doc, [*loc, op.value], f"property {name}: {exc}")
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
    if op in (Op.GREATER, Op.LESS) and spec.type not in _NUMERIC:
        raise ValueError(f"{op.value} works on numbers and dates; {spec.name} is {spec.type.value}")
    if spec.type is PropertyType.LIST:
        raise ValueError(f"{spec.name} is a list: use contains")
    if op is Op.ONE_OF:
        return tuple(spec.coerce(v) for v in (raw if isinstance(raw, list) else [raw]))
    return spec.coerce(raw)


def _texted(
    c: Compiling, doc: YamlDoc, loc: Loc, body: Mapping[str, Any], keywords: Mapping[str, Keyword]
) -> Condition | None:
    keyword = str(body["texted"])
    if keyword not in keywords:
        c.error(doc, [*loc, "texted"], f"texted {keyword}: no such keyword")
        return None
    within, at_least = body.get("within_days"), body.get("at_least", 1)
    if within is not None and (not isinstance(within, int) or within < 1):
        c.error(doc, [*loc, "within_days"], "within_days: expects a whole number of days, 1 or more")
        return None
    if not isinstance(at_least, int) or at_least < 1:
        c.error(doc, [*loc, "at_least"], "at_least: expects a whole number, 1 or more")
        return None
    return Texted(keyword, within, at_least)


_KINDS = ("all", "any", "not", *(field.value for field in Field), "property", "texted", "segment")
