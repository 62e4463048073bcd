"""Flows: the steps a keyword (or another flow) starts for one subscriber, compiled and checked.

A flow is a list of steps, each a mapping with exactly one action:

    send: text or {en: ..., es: ...}    (media: [urls])
    send_vcard: <contact card>
    wait: 10m | 2h | 1d                  or  wait: {until: "10:00"} (the subscriber's local time)
    ask: question                        property: <declared property>, timeout: 1d, invalid: re-ask text
    split: {on: <property> | country | language | opt_in_source, branches: {value: step id}, else: step id}
    start: <flow>
    end: true

Steps run in order; `split` jumps to a step's `id`; `end` stops. The checker refuses unknown steps,
undeclared properties, unknown cards, flows and step ids, and any loop that could spin without a
`wait` or an `ask`; it warns for steps nothing can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.domain.automations import EVENT_PREFIX, Automation
from bot.domain.flows import SPLIT_ON_BUILT_IN, Flow, Step, StepKind
from bot.domain.model import ContactCard
from bot.program.automations import compile_automation
from bot.program.context import Compiling, Loc
from bot.program.durations import duration
from bot.program.event_fields import guaranteed
from bot.program.graphs import on_cycles, reachable
from bot.program.messages import check_media, compile_message
from bot.program.yamlfile import YamlDoc


@dataclass(frozen=True)
class _Raw:
    """One step as written, with where it is."""

    doc: YamlDoc
    loc: Loc
    flow: str
    body: Mapping[str, Any]
    kind: StepKind

    @property
    def value(self) -> Any:
        return self.body[self.kind.value]

    @property
    def here(self) -> Loc:
        return [*self.loc, self.kind.value]

    @property
    def id(self) -> str | None:
        return str(self.body["id"]) if self.body.get("id") is not None else None


def compile_flow(c: Compiling, doc: YamlDoc, name: str, body: Any) -> Flow | None:
    loc: Loc = ["flows", name]
    steps_source = body.get("steps") if isinstance(body, Mapping) else body
    if not isinstance(steps_source, list) or not steps_source:
        c.error(doc, loc, f"flow {name}: expected steps: a list of steps")
        return None
    automation = compile_automation(c, doc, loc, body) if isinstance(body, Mapping) else Automation()
    scope = c.scope
    if automation is not None and automation.trigger is not None:
        c.scope = scope | {"event"}  # its messages and splits may name the event that started it
        c.event_fields = guaranteed(automation.trigger)
    steps = []
    try:
        for i, raw in enumerate(steps_source):
            step = _step(c, doc, [*loc, "steps", i], name, raw)
            if step is not None:
                steps.append(step)
    finally:
        c.scope, c.event_fields = scope, frozenset()
    if automation is None or len(steps) != len(steps_source):
        return None
    return Flow(name, tuple(steps), automation)


def _step(c: Compiling, doc: YamlDoc, loc: Loc, flow: str, raw: Any) -> Step | None:
    if raw == "end":
        return Step(StepKind.END)
    if not isinstance(raw, Mapping):
        c.error(doc, loc, f"flow {flow}: a step is a mapping such as send: ..., wait: 1d")
        return None
    actions = [key for key in raw if key in StepKind.__members__.values()]
    unknown = [key for key in raw if key not in _OPTIONS and key not in actions]
    if len(actions) != 1 or unknown:
        what = f"unknown {', '.join(map(repr, unknown))}" if unknown else f"{len(actions)} actions"
        c.error(
            doc,
            loc,
            f"flow {flow}: {what} in a step; expected exactly one of {', '.join(StepKind)}"
            " (with id, media, property, timeout, invalid, interrupt as options)",
        )
        return None
    kind = StepKind(actions[0])
    return _COMPILERS[kind](c, _Raw(doc, loc, flow, raw, kind))


def _send(c: Compiling, raw: _Raw) -> Step | None:
    message = compile_message(c, raw.doc, raw.here, raw.value)
    media = tuple(str(m) for m in raw.body.get("media", []) or [])
    for n, url in enumerate(media):
        check_media(c, raw.doc, [*raw.loc, "media", n], url)
    return Step(raw.kind, raw.id, message=message, media=media) if message else None


def _send_vcard(c: Compiling, raw: _Raw) -> Step | None:
    return Step(raw.kind, raw.id, card=str(raw.value))


def _wait(c: Compiling, raw: _Raw) -> Step | None:
    value = raw.value
    if isinstance(value, Mapping) and "until" in value:
        try:
            return Step(raw.kind, raw.id, until=time.fromisoformat(str(value["until"])))
        except ValueError:
            c.error(raw.doc, raw.here, f"flow {raw.flow}: wait until {value['until']!r}: expected HH:MM")
            return None
    wait = duration(value)
    if wait is None:
        c.error(
            raw.doc, raw.here, f"flow {raw.flow}: wait {value!r}: expected a duration such as 10m, 2h, 1d"
        )
        return None
    return Step(raw.kind, raw.id, wait=wait)


def _ask(c: Compiling, raw: _Raw) -> Step | None:
    prop = raw.body.get("property")
    if prop not in c.properties:
        c.error(
            raw.doc,
            [*raw.loc, "property"] if prop else raw.loc,
            f"flow {raw.flow}: ask needs property: a declared property (got {prop!r})",
        )
        return None
    timeout = duration(raw.body.get("timeout", "1d"))
    if timeout is None:
        c.error(
            raw.doc,
            [*raw.loc, "timeout"],
            f"flow {raw.flow}: timeout {raw.body['timeout']!r}: expected 10m, 2h, 1d",
        )
        return None
    message = compile_message(c, raw.doc, raw.here, raw.value)
    invalid = compile_message(c, raw.doc, [*raw.loc, "invalid"], raw.body.get("invalid"))
    if message is None:
        return None
    return Step(
        raw.kind,
        raw.id,
        message=message,
        property=str(prop),
        wait=timeout,
        invalid=invalid,
        interrupt=bool(raw.body.get("interrupt", True)),
    )


def _split(c: Compiling, raw: _Raw) -> Step | None:
    value = raw.value
    if not isinstance(value, Mapping) or "on" not in value:
        c.error(
            raw.doc,
            raw.here,
            f"flow {raw.flow}: split needs on: (a property, or {', '.join(SPLIT_ON_BUILT_IN)})",
        )
        return None
    on = str(value["on"])
    if on.startswith(EVENT_PREFIX) and "event" not in c.scope:
        c.error(
            raw.doc,
            [*raw.here, "on"],
            f"flow {raw.flow}: split on {on}: only a flow with a trigger has an event",
        )
        return None
    if on not in c.properties and on not in SPLIT_ON_BUILT_IN and not on.startswith(EVENT_PREFIX):
        c.error(raw.doc, [*raw.here, "on"], f"flow {raw.flow}: split on {on}: no such property")
        return None
    branches = {str(k): str(v) for k, v in (value.get("branches") or {}).items()}
    otherwise = str(value["else"]) if value.get("else") is not None else None
    return Step(raw.kind, raw.id, split_on=on, branches=branches, otherwise=otherwise)


def _start(c: Compiling, raw: _Raw) -> Step | None:
    return Step(raw.kind, raw.id, flow=str(raw.value))


def _end(c: Compiling, raw: _Raw) -> Step | None:
    return Step(raw.kind, raw.id)


_COMPILERS: dict[StepKind, Callable[[Compiling, _Raw], Step | None]] = {
    StepKind.SEND: _send,
    StepKind.SEND_VCARD: _send_vcard,
    StepKind.WAIT: _wait,
    StepKind.ASK: _ask,
    StepKind.SPLIT: _split,
    StepKind.START: _start,
    StepKind.END: _end,
}


def link_flows(
    c: Compiling, doc_of: Mapping[str, YamlDoc], flows: Mapping[str, Flow], cards: Mapping[str, ContactCard]
) -> None:
    """Checks that need every flow: targets, cards, reachability, loops without a wait."""
    for flow in flows.values():
        _link(c, doc_of[flow.name], flow, flows, cards)
    for name in _spinning(flows):
        c.error(doc_of[name], ["flows", name], f"flow {name}: it can loop without a wait or an ask")


def _link(
    c: Compiling, doc: YamlDoc, flow: Flow, flows: Mapping[str, Flow], cards: Mapping[str, ContactCard]
) -> None:
    loc: Loc = ["flows", flow.name]
    ids = [s.id for s in flow.steps if s.id]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        c.error(doc, loc, f"flow {flow.name}: step id {dup} is used twice")
    for i, step in enumerate(flow.steps):
        here = [*loc, "steps", i]
        for target in [*step.branches.values(), *([step.otherwise] if step.otherwise else [])]:
            if target not in ids:
                c.error(doc, here, f"flow {flow.name}: split goes to {target}, but no step has id: {target}")
        if step.kind is StepKind.SEND_VCARD and step.card not in cards:
            c.error(doc, here, f"flow {flow.name}: no contact card {step.card!r}")
        if step.kind is StepKind.START and step.flow not in flows:
            c.error(doc, here, f"flow {flow.name}: starts {step.flow!r}, which is not a flow")
        elif step.kind is StepKind.START and step.flow == flow.name:
            c.note(
                doc,
                here,
                f"flow {flow.name}: start {flow.name} does nothing, since the flow is running; to go round "
                "again, give its first step an id and jump back with split: {on: language, else: <id>}",
            )
    for i in sorted(set(range(len(flow.steps))) - _reachable(flow)):
        c.note(doc, [*loc, "steps", i], f"flow {flow.name}: step {i + 1} can never run")


_OPTIONS = {"id", "media", "property", "timeout", "invalid", "interrupt"}


def _successors(flow: Flow, i: int) -> list[int]:
    step = flow.steps[i]
    ids = {s.id: n for n, s in enumerate(flow.steps) if s.id}
    if step.kind is StepKind.END:
        return []
    if step.kind is StepKind.SPLIT:
        targets = [ids[t] for t in step.branches.values() if t in ids]
        if step.otherwise is None:
            targets.append(i + 1)
        elif step.otherwise in ids:
            targets.append(ids[step.otherwise])
        return [t for t in targets if t < len(flow.steps)]
    return [i + 1] if i + 1 < len(flow.steps) else []


def _reachable(flow: Flow) -> set[int]:
    steps = range(len(flow.steps))
    return reachable({i: _successors(flow, i) for i in steps}, [0] if flow.steps else [])


def _spinning(flows: Mapping[str, Flow]) -> list[str]:
    """Flows with a cycle (through splits or start) that passes no wait and no ask."""
    pausing = {StepKind.WAIT, StepKind.ASK}
    nodes: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for flow in flows.values():
        for i, step in enumerate(flow.steps):
            if step.kind in pausing:
                continue  # a pause breaks any loop through it
            edges = [(flow.name, j) for j in _successors(flow, i) if flow.steps[j].kind not in pausing]
            starts = flows.get(step.flow or "") if step.kind is StepKind.START else None
            if starts is not None and starts.steps and starts.steps[0].kind not in pausing:
                edges.append((starts.name, 0))
            nodes[(flow.name, i)] = edges
    return sorted({name for name, _ in on_cycles(nodes)})
