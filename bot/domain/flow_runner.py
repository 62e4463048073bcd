"""Running a flow for one subscriber, as pure decisions: state and clock in, actions out.

`advance` runs steps until one pauses (a wait, or an ask waiting for its answer) or the flow ends;
`answer` takes a reply to the waiting question; `timed_out` gives up on it. `flow_effects` carries out
the actions; the pipeline stores the state and schedules `due_at`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.domain.automations import EVENT_PREFIX, compare, event_value
from bot.domain.flows import Flow, Step, StepKind
from bot.domain.i18n import negotiate
from bot.domain.model import Program
from bot.domain.phones import region_of
from bot.domain.properties import PropertyType
from bot.domain.quiet_hours import QuietHours
from bot.domain.templates import compile_template
from bot.domain.voice import SubscriberState, Voice

MAX_STEPS = 200  # per advance; the checker refuses loops without a pause, this is the backstop


@dataclass(frozen=True)
class RunState:
    flow: str
    step: int  # the next step to run, or the ask waiting for its answer
    waiting: bool = False  # an ask is waiting for its answer
    asked_again: bool = False  # the ask already re-asked once after an invalid answer
    due_at: datetime | None = None  # when to advance again (end of a wait, or the ask's timeout)
    event: Mapping[str, Any] | None = None  # the store event that started it (automations)
    key: str = ""  # a flow run once per event (`per: event.order_id`): that event's key

    @property
    def name(self) -> tuple[str, str]:
        """Which run of the subscriber's this is: its flow, and its event's key if it has one."""
        return (self.flow, self.key)


@dataclass(frozen=True)
class Send:
    text: str
    media: tuple[str, ...] = ()
    problem: str | None = None  # it could not be written (a template failed): why


def _send(voice: Voice, step: Step, seen: Mapping[str, Any], flow: str, media: tuple[str, ...] = ()) -> Send:
    assert step.message is not None
    text, problem = voice.message_checked(step.message, seen, f"flow:{flow}")
    return Send(text, media, problem)


@dataclass(frozen=True)
class SendCard:
    card: str  # contact card name; the worker decides MMS or a link by country


@dataclass(frozen=True)
class SetProperty:
    name: str
    value: Any


@dataclass(frozen=True)
class StartFlow:
    flow: str


Action = Send | SendCard | SetProperty | StartFlow


@dataclass(frozen=True)
class Advanced:
    state: RunState | None  # None: the flow has ended
    actions: tuple[Action, ...]


def _next_time_of_day(now: datetime, step: Step, subscriber: SubscriberState) -> datetime:
    assert step.until is not None
    zone = QuietHours().zones(subscriber.phone)[0]
    local = now.astimezone(zone)
    target = datetime.combine(local.date(), step.until, tzinfo=zone)
    if target <= now:
        target = datetime.combine(local.date() + timedelta(days=1), step.until, tzinfo=zone)
    return target


def _branch(
    step: Step, subscriber: SubscriberState, program: Program, event: Mapping[str, Any] | None
) -> str | None:
    on = step.split_on
    if on and on.startswith(EVENT_PREFIX):
        value: Any = event_value(event, on)
    elif on == "country":
        value = region_of(subscriber.phone)
    elif on == "language":
        value = negotiate(subscriber.language, program.info.default_language)
    elif on == "opt_in_source":
        value = subscriber.opt_in_source
    else:
        value = subscriber.properties.get(on or "")
    for wanted, target in step.branches.items():
        passed = compare(value, wanted)  # "> 100": a comparison; else a value to match
        if passed is None:
            passed = (isinstance(value, list) and wanted in value) or (
                value is not None and str(value) == wanted
            )
        if passed:
            return target
    return step.otherwise


def lead_time(flow: Flow) -> timedelta:
    """How long after its start a run sends its first message, at the least (a cart reminder's hour)."""
    first = flow.steps[0] if flow.steps else None
    if first is not None and first.kind is StepKind.WAIT and first.wait is not None:
        return first.wait
    return timedelta(0)


def first_state(flow: Flow, event: Mapping[str, Any] | None, now: datetime, key: str = "") -> RunState:
    """A run as it starts: due now, or, when the flow begins with a wait of a set length (a cart
    reminder's hour), already at its next step, due when the wait ends (what stepping it would give)."""
    wait = lead_time(flow)
    return RunState(flow.name, 1 if wait else 0, due_at=now + wait, event=event, key=key)


def _media(media: tuple[str, ...], seen: Mapping[str, Any]) -> tuple[str, ...]:
    """Media URLs, a templated one filled in (`{{ event.line_items[0].image }}`: the product's
    picture); one that comes out empty or not a URL is left out, and the message goes as SMS."""
    if not any("{{" in url for url in media):
        return media
    filled = (_template(url).render(seen) if "{{" in url else url for url in media)
    return tuple(url for url in filled if url.startswith(("https://", "http://")))


_template = lru_cache(maxsize=256)(compile_template)


def _seen(subscriber: SubscriberState, state: RunState) -> Mapping[str, Any]:
    """What a message of the run may name: the subscriber's properties, and its event if any."""
    if state.event is None:
        return subscriber.properties
    return {**subscriber.properties, "event": state.event}


def advance(program: Program, state: RunState, subscriber: SubscriberState, now: datetime) -> Advanced:
    """Run from `state.step` until a pause or the end. A waiting ask is not advanced here."""
    flow = program.flows.get(state.flow)
    if flow is None:
        return Advanced(None, ())  # the flow was removed from the program: stop quietly
    if state.waiting:
        return Advanced(state, ())
    actions: list[Action] = []
    voice = Voice.to(subscriber, program)
    seen = _seen(subscriber, state)
    index = state.step
    for _ in range(MAX_STEPS):
        if index >= len(flow.steps):
            return Advanced(None, tuple(actions))
        step = flow.steps[index]
        if step.kind is StepKind.END:
            return Advanced(None, tuple(actions))
        if step.kind is StepKind.SEND:
            actions.append(_send(voice, step, seen, flow.name, _media(step.media, seen)))
        elif step.kind is StepKind.SEND_VCARD:
            actions.append(SendCard(str(step.card)))
        elif step.kind is StepKind.START:
            actions.append(StartFlow(str(step.flow)))
        elif step.kind is StepKind.SPLIT:
            target = _branch(step, subscriber, program, state.event)
            index = flow.index_of(target) if target else index + 1
            continue
        elif step.kind is StepKind.WAIT:
            due = now + step.wait if step.wait is not None else _next_time_of_day(now, step, subscriber)
            return Advanced(
                replace(state, step=index + 1, waiting=False, asked_again=False, due_at=due), tuple(actions)
            )
        elif step.kind is StepKind.ASK:
            assert step.wait is not None
            actions.append(_send(voice, step, seen, flow.name))
            waiting = replace(state, step=index, waiting=True, asked_again=False, due_at=now + step.wait)
            return Advanced(waiting, tuple(actions))
        index += 1
    raise RuntimeError(f"flow {flow.name} ran {MAX_STEPS} steps without a pause")


def answer(
    program: Program, state: RunState, subscriber: SubscriberState, text: str, now: datetime
) -> Advanced:
    """A reply to the waiting question: store it if valid, re-ask once if not, then move on."""
    flow: Flow | None = program.flows.get(state.flow)
    if flow is None or not state.waiting:
        return Advanced(state if flow else None, ())
    step = flow.steps[state.step]
    spec = program.properties[str(step.property)]
    try:
        value = spec.coerce(text.strip())
        if spec.type is PropertyType.LIST:
            value = list(dict.fromkeys([*(subscriber.properties.get(spec.name) or []), *value]))
    except ValueError:
        if not state.asked_again:
            message = step.invalid or step.message
            assert message is not None
            again = Voice.to(subscriber, program).message(
                message, _seen(subscriber, state), f"flow:{state.flow}"
            )
            return Advanced(replace(state, asked_again=True), (Send(again),))
        return _move_on(program, state, subscriber, now, ())
    stored = SetProperty(spec.name, value)
    updated = replace(subscriber, properties={**subscriber.properties, spec.name: value})
    return _move_on(program, state, updated, now, (stored,))


def timed_out(program: Program, state: RunState, subscriber: SubscriberState, now: datetime) -> Advanced:
    """No answer in time: give up on the question and go on with the flow."""
    if not state.waiting:
        return advance(program, state, subscriber, now)
    return _move_on(program, state, subscriber, now, ())


def _move_on(
    program: Program, state: RunState, subscriber: SubscriberState, now: datetime, done: tuple[Action, ...]
) -> Advanced:
    following = replace(state, step=state.step + 1, waiting=False, asked_again=False, due_at=None)
    after = advance(program, following, subscriber, now)
    return Advanced(after.state, (*done, *after.actions))
