"""A flow's automation keys compiled and checked: `trigger`, `exit_when`, `at_most`, `transactional`.

trigger: {event: checkout_started, where: {total_price: {greater: 0}, currency: USD}}
exit_when: {event: order_placed}              (or a list of events)
at_most: once per 48h
transactional: true                           (an order's news: not held by quiet hours)
per: event.order_ref                          (a run for each order, once; else one run at a time)
fresh_for: 2h                                 (an older event starts nothing; default: the waits
                                               before the first message, and 1h, or 6h if transactional)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import time, timedelta
from typing import Any

from bot.domain.automations import OPERATORS, Automation, EventCondition, Trigger
from bot.domain.date_triggers import DATE_TRIGGER_KEY, DateTrigger
from bot.domain.properties import PropertyType
from bot.domain.store_events import KNOWN_TYPES
from bot.program.context import Compiling, Loc
from bot.program.durations import duration
from bot.program.yamlfile import YamlDoc

FLOW_KEYS = ("steps", "trigger", "exit_when", "at_most", "transactional", "per", "fresh_for")
_PER = re.compile(r"^event\.([A-Za-z_][A-Za-z0-9_]{0,49})$")
_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_ONCE_PER = re.compile(r"^\s*once\s+per\s+(.+)$", re.IGNORECASE)


def compile_automation(c: Compiling, doc: YamlDoc, loc: Loc, body: Mapping[str, Any]) -> Automation | None:
    """The flow's automation, or None after reporting what is wrong with it."""
    unknown = [str(k) for k in body if k not in FLOW_KEYS]
    if unknown:
        c.error(
            doc,
            [*loc, unknown[0]],
            f"{_name(loc)}: unknown {', '.join(unknown)}; expected {', '.join(FLOW_KEYS)}",
        )
        return None
    errors = len(c.errors)
    trigger, on_date, enters, unless = _triggers(c, doc, [*loc, "trigger"], body.get("trigger"))
    exits = _events(c, doc, [*loc, "exit_when"], body.get("exit_when")) + unless
    at_most = None
    if "at_most" in body:
        found = _ONCE_PER.match(str(body["at_most"]))
        at_most = duration(found.group(1)) if found else None
        if at_most is None:
            c.error(
                doc,
                [*loc, "at_most"],
                f"{_name(loc)}: at_most {body['at_most']!r}: expected once per 48h (or 30m, 2d)",
            )
    transactional = body.get("transactional", False)
    if not isinstance(transactional, bool):
        c.error(doc, [*loc, "transactional"], f"{_name(loc)}: transactional: expected true or false")
    per = _per(c, doc, loc, body)
    fresh_for = None
    if "fresh_for" in body:
        fresh_for = duration(body["fresh_for"])
        if fresh_for is None:
            c.error(
                doc,
                [*loc, "fresh_for"],
                f"{_name(loc)}: fresh_for {body['fresh_for']!r}: expected 2h (or 30m, 2d)",
            )
    started = trigger is not None or on_date is not None or enters is not None
    if not started and (exits or at_most or per or fresh_for) and len(c.errors) == errors:
        c.note(
            doc, loc, f"{_name(loc)}: exit_when, at_most, per and fresh_for only act on a flow with a trigger"
        )
    if len(c.errors) > errors:
        return None
    return Automation(
        trigger, frozenset(exits), at_most, bool(transactional), per, fresh_for, on_date, enters
    )


def _per(c: Compiling, doc: YamlDoc, loc: Loc, body: Mapping[str, Any]) -> str | None:
    if "per" not in body:
        return None
    found = _PER.match(str(body["per"]))
    if found is None:
        c.error(
            doc,
            [*loc, "per"],
            f"{_name(loc)}: per {body['per']!r}: expected an event field, such as event.order_ref",
        )
        return None
    return found.group(1)


def _triggers(
    c: Compiling, doc: YamlDoc, loc: Loc, raw: Any
) -> tuple[Trigger | None, DateTrigger | None, str | None, list[str]]:
    """The event trigger, the date trigger or the segment entered, and the events that end a run
    (`unless:`)."""
    if raw is None:
        return None, None, None, []
    if isinstance(raw, Mapping) and DATE_TRIGGER_KEY in raw:
        return None, _date_trigger(c, doc, loc, raw), None, []
    if isinstance(raw, Mapping) and "enters" in raw:
        return None, None, _enters(c, doc, loc, raw), []
    given = raw.get("unless") if isinstance(raw, Mapping) else None
    return _trigger(c, doc, loc, raw), None, None, _events(c, doc, [*loc, "unless"], given)


def _enters(c: Compiling, doc: YamlDoc, loc: Loc, raw: Mapping[str, Any]) -> str | None:
    """`{enters: vip}`: a segment of the program (its name checked against every file's segments)."""
    name = raw.get("enters")
    if set(raw) != {"enters"} or not isinstance(name, str):
        c.error(doc, loc, f"{_name(loc)}: trigger: expected {{enters: a_segment}}")
        return None
    if name not in c.segment_names:
        c.error(doc, [*loc, "enters"], f"{_name(loc)}: enters: no segment {name}")
        return None
    return name


def _date_trigger(c: Compiling, doc: YamlDoc, loc: Loc, raw: Mapping[str, Any]) -> DateTrigger | None:
    """`{date: birthday, at: "10:00"}`: a date property's day, every year, at a time of day."""
    if set(raw) - {DATE_TRIGGER_KEY, "at"}:
        c.error(doc, loc, f'{_name(loc)}: trigger: expected {{date: birthday, at: "10:00"}}')
        return None
    name = str(raw[DATE_TRIGGER_KEY])
    spec = c.properties.get(name)
    if spec is None or spec.type is not PropertyType.DATE:
        c.error(doc, [*loc, DATE_TRIGGER_KEY], f"{_name(loc)}: date: {name!r} is not a date property")
        return None
    at = _TIME.match(str(raw.get("at", "10:00")))
    if at is None or int(at.group(1)) > 23 or int(at.group(2)) > 59:
        c.error(
            doc, [*loc, "at"], f"{_name(loc)}: at {raw.get('at')!r}: expected a time of day such as 10:00"
        )
        return None
    return DateTrigger(name, time(int(at.group(1)), int(at.group(2))))


def _trigger(c: Compiling, doc: YamlDoc, loc: Loc, raw: Any) -> Trigger | None:
    spec = {"event": raw} if isinstance(raw, str) else raw
    if isinstance(spec, Mapping) and "after" in spec:
        return _after(c, doc, loc, spec)
    if not isinstance(spec, Mapping) or set(spec) - {"event", "where"}:
        c.error(doc, loc, f"{_name(loc)}: trigger: expected {{event: checkout_started, where: {{...}}}}")
        return None
    return _event_trigger(c, doc, loc, spec)


def _after(c: Compiling, doc: YamlDoc, loc: Loc, spec: Mapping[str, Any]) -> Trigger | None:
    """`{after: order_placed, days: 60, unless: order_placed}`: the event's time and a delay."""
    if set(spec) - {"after", "days", "unless", "where"}:
        c.error(
            doc,
            loc,
            f"{_name(loc)}: trigger: expected {{after: order_placed, days: 60, unless: order_placed}}",
        )
        return None
    days = spec.get("days")
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 3650:
        c.error(doc, [*loc, "days"], f"{_name(loc)}: days {days!r}: expected a number of days, 1 to 3650")
        return None
    found = _event_trigger(c, doc, loc, {"event": spec["after"], "where": spec.get("where")})
    return replace(found, delay=timedelta(days=days)) if found is not None else None


def _event_trigger(c: Compiling, doc: YamlDoc, loc: Loc, spec: Mapping[str, Any]) -> Trigger | None:
    errors = len(c.errors)
    named = _events(c, doc, loc, {"event": spec.get("event")})
    event = named[0] if len(named) == 1 else None
    if event is None and len(c.errors) == errors:
        c.error(doc, loc, f"{_name(loc)}: trigger: expected one event, such as checkout_started")
    where = spec.get("where") or {}
    if not isinstance(where, Mapping):
        c.error(doc, [*loc, "where"], f"{_name(loc)}: where: expected a mapping of event properties")
        return None
    conditions = [_condition(c, doc, [*loc, "where", str(k)], str(k), v) for k, v in where.items()]
    if event is None or any(cond is None for cond in conditions):
        return None
    return Trigger(event, tuple(cond for cond in conditions if cond is not None))


def _events(c: Compiling, doc: YamlDoc, loc: Loc, raw: Any) -> list[str]:
    if raw is None:
        return []
    given = raw.get("event") if isinstance(raw, Mapping) else raw
    names = given if isinstance(given, list) else [given]
    for name in names:
        if not isinstance(name, str) or not _TYPE.match(name):
            c.error(doc, loc, f"{_name(loc)}: event {name!r}: expected an event type such as order_placed")
            return []
        if name not in KNOWN_TYPES:
            c.note(
                doc,
                loc,
                f"{_name(loc)}: {name} is not one of {', '.join(KNOWN_TYPES)}: your store must send it",
                "info",
            )
    return [str(n) for n in names]


def _condition(c: Compiling, doc: YamlDoc, loc: Loc, name: str, raw: Any) -> EventCondition | None:
    if not isinstance(raw, Mapping):
        return EventCondition(name, "one_of" if isinstance(raw, list) else "equals", raw)
    if len(raw) != 1 or next(iter(raw)) not in OPERATORS:
        c.error(doc, loc, f"{_name(loc)}: {name}: expected a value, or one of {', '.join(OPERATORS)}: value")
        return None
    operator, value = next(iter(raw.items()))
    if operator == "one_of" and not isinstance(value, list):
        c.error(doc, loc, f"{_name(loc)}: {name}: one_of: expected a list")
        return None
    return EventCondition(name, str(operator), value)


def _name(loc: Loc) -> str:
    return f"flow {loc[1]}"
