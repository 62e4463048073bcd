"""What a flow's actions do: carried out here, and only here, for the webhook and the worker alike.

The runner (`flow_runner`) decides which actions a flow takes; each kind of action has one handler
below that turns it into what the subscriber is sent, what is stored about them and which flows
start. A new step kind touches its definition (`flows`, `program/flows`), the runner, and, if it
brings a new kind of action, one handler here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.domain import replies
from bot.domain.flow_runner import (
    Action,
    Advanced,
    RunState,
    Send,
    SendCard,
    SetProperty,
    StartFlow,
    advance,
    answer,
    timed_out,
)
from bot.domain.model import Program, card_path
from bot.domain.outcome import Policy, RunChange
from bot.domain.phones import region_of
from bot.domain.subscription import Status
from bot.domain.voice import SubscriberState, Voice

Said = tuple[str, tuple[str, ...]]  # (text, media URLs)


@dataclass(slots=True)
class FlowEffects:
    """One subscriber's flows moving on within one decision, and what that comes to."""

    subscriber: SubscriberState  # as they were before this decision
    program: Program
    policy: Policy
    now: datetime
    status: Status  # their status once this decision is taken
    updates: dict[str, Any] = field(default_factory=dict)  # subscriber fields this decision changes
    active: set[str] = field(default_factory=set)  # flows running for them, kept current
    said: list[Said] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # messages that could not be written: why
    runs: list[RunChange] = field(default_factory=list)

    def current(self) -> SubscriberState:
        """The subscriber as this decision leaves them so far (a later step sees an earlier answer)."""
        return replace(
            self.subscriber,
            status=self.status,
            language=self.updates.get("language", self.subscriber.language),
            properties=self.updates.get("properties", self.subscriber.properties),
        )

    def start(self, flow: str) -> None:
        """Run a new flow from its first step to its first pause."""
        self.active.add(flow)
        self.carry_out(advance(self.program, RunState(flow, 0), self.current(), self.now), flow, started=True)

    def answer(self, waiting: RunState, text: str) -> None:
        went = answer(self.program, waiting, self.current(), text, self.now)
        asked_again = went.state is not None and went.state.waiting and went.state.step == waiting.step
        left = None if asked_again else ("answered", waiting.step)
        self.carry_out(went, waiting.flow, started=False, left=left, key=waiting.key)

    def fall_due(self, run: RunState) -> None:
        """A wait ended, or a question went unanswered: the run goes on to its next pause."""
        went = timed_out(self.program, run, self.current(), self.now)
        left = ("timed_out", run.step) if run.waiting else None
        self.carry_out(went, run.flow, started=False, left=left, key=run.key)

    def carry_out(
        self, went: Advanced, flow: str, *, started: bool, left: tuple[str, int] | None = None, key: str = ""
    ) -> None:
        self.carry_out_actions(went.actions)
        self.runs.append(RunChange(flow, went.state, started, left, key))
        if went.state is None:
            self.active.discard(flow)

    def carry_out_actions(self, actions: tuple[Action, ...]) -> None:
        """Each action through its one handler, in order."""
        for action in actions:
            _HANDLERS[type(action)](self, action)


def _send(effects: FlowEffects, action: Action) -> None:
    assert isinstance(action, Send)
    if action.problem is not None:
        effects.failed.append(action.problem)
    else:
        effects.said.append((action.text, action.media))


def _send_card(effects: FlowEffects, action: Action) -> None:
    assert isinstance(action, SendCard)
    voice = Voice.to(effects.current(), effects.program)
    effects.said.append(card_message(action.card, effects.subscriber.phone, effects.policy, voice))


def _set_property(effects: FlowEffects, action: Action) -> None:
    assert isinstance(action, SetProperty)
    effects.updates["properties"] = {**effects.current().properties, action.name: action.value}
    if action.name == "language":
        set_language(effects.updates, str(action.value), "property")


def _start_flow(effects: FlowEffects, action: Action) -> None:
    """Another flow begins at its first step when the worker next looks, never inside this reply.
    A flow already running for the subscriber (this one included) is not started twice."""
    assert isinstance(action, StartFlow)
    if action.flow in effects.active:
        return
    effects.active.add(action.flow)
    effects.runs.append(RunChange(action.flow, RunState(action.flow, 0, due_at=effects.now), started=True))


_HANDLERS: dict[type[Action], Callable[[FlowEffects, Action], None]] = {
    Send: _send,
    SendCard: _send_card,
    SetProperty: _set_property,
    StartFlow: _start_flow,
}


def card_message(name: str, phone: str, policy: Policy, voice: Voice) -> Said:
    """A contact card as (text, media): MMS where the carrier delivers it, else a link or nothing."""
    url = f"{policy.public_url or ''}{card_path(name)}"
    if policy.public_url and region_of(phone) in policy.mms_countries:
        return ("", (url,))  # MMS: the card itself
    if policy.card_elsewhere == "skip":
        return ("", ())  # dropped with the other empty replies
    return (voice.say(replies.CARD_LINK, url=url), ())  # where MMS is not delivered: a link


def set_language(updates: dict[str, Any], language: str | None, source: str) -> None:
    if language:
        updates["language"] = language
        updates["language_source"] = source
