"""One inbound message, one decision: what changes for the subscriber and what we reply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.domain import replies
from bot.domain.compliance import Intent
from bot.domain.flow_runner import (
    Action as FlowAction,
)
from bot.domain.flow_runner import (
    RunState,
    Send,
    SendCard,
    SetProperty,
    StartFlow,
    advance,
    answer,
)
from bot.domain.inbound import InboundMessage, region_of
from bot.domain.matcher import Match, match
from bot.domain.model import Keyword, KeywordKind, Program
from bot.domain.subscription import Action, ConsentChange, Status, SubscriptionModel, fire
from bot.domain.voice import SubscriberState, Voice


@dataclass(frozen=True)
class Outcome:
    intent: Intent
    word: str | None
    status: Status
    consent: tuple[ConsentChange, ...]
    replies: tuple[str, ...]
    updates: Mapping[str, Any]  # subscriber fields to store
    keyword: str | None = None  # the program keyword texted, recorded as an event whatever the status
    cancel_flows: bool = False  # opted out: every running flow ends now, nothing queued goes out
    media: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # reply index -> media URLs
    runs: tuple[RunChange, ...] = ()


@dataclass(frozen=True)
class Policy:
    """Operator switches that change what the core says, not what it records."""

    carrier_sends_confirmations: bool = False
    public_url: str | None = None  # for links to contact cards
    mms_countries: frozenset[str] = frozenset({"US", "CA"})  # where a card goes as MMS, not as a link
    card_elsewhere: str = "link"  # outside mms_countries: "link" to the card, or "skip" the step


@dataclass(frozen=True)
class Flows:
    """The subscriber's running flows, as the core needs them."""

    active: frozenset[str] = frozenset()
    waiting: RunState | None = None  # a run whose question waits for an answer


@dataclass(frozen=True)
class RunChange:
    flow: str
    state: RunState | None  # None: the run has ended
    started: bool  # a new run (else: the running one moved on)


def decide(
    message: InboundMessage,
    subscriber: SubscriberState,
    program: Program,
    policy: Policy,
    flows: Flows | None = None,
) -> Outcome:
    found = match(message.body, program, subscriber.status, message.opt_out_type)
    model = SubscriptionModel(subscriber.status)
    updates: dict[str, Any] = {}
    voice = Voice(found, subscriber, program, updates)
    flows = flows or Flows()
    answering = _answers_question(found, model, program, flows)
    said: list[tuple[str, tuple[str, ...]]] = []
    if not answering:
        said = [(text, ()) for text in _respond(found, model, subscriber, program, policy, updates, voice)]

    for change in model.changes:
        if change.to_status is Status.SUBSCRIBED:
            updates["subscribed_at"] = message.received_at
        elif change.to_status is Status.UNSUBSCRIBED:
            updates["unsubscribed_at"] = message.received_at
    if model.changes:
        updates["status"] = model.status

    runs: list[RunChange] = []
    steps = _FlowSteps(message, subscriber, program, policy, updates, voice, model.status)
    if answering and flows.waiting is not None:
        answered = answer(program, flows.waiting, steps.subscriber(), message.body, message.received_at)
        said += steps.carry_out(answered.actions, flows.active, runs)
        runs.append(RunChange(flows.waiting.flow, answered.state, started=False))
    start = _flow_to_start(found, model, subscriber, program)
    if start and start not in flows.active:
        started = advance(program, RunState(start, 0), steps.subscriber(), message.received_at)
        said += steps.carry_out(started.actions, flows.active, runs)
        runs.append(RunChange(start, started.state, started=True))

    kept = [(text, media) for text, media in said if text or media]
    return Outcome(
        intent=found.intent,
        word=found.word,
        status=model.status,
        consent=tuple(model.changes),
        replies=tuple(text for text, _ in kept),
        updates=updates,
        keyword=found.keyword.name if found.keyword is not None else None,
        cancel_flows=any(change.to_status is Status.UNSUBSCRIBED for change in model.changes),
        media={i: media for i, (_, media) in enumerate(kept) if media},
        runs=tuple(runs),
    )


def _answers_question(found: Match, model: SubscriptionModel, program: Program, flows: Flows) -> bool:
    """Is this message the answer to a waiting question? Compliance words never are; program
    keywords interrupt, unless the question says they answer it."""
    waiting = flows.waiting
    if waiting is None or model.status is not Status.SUBSCRIBED:
        return False
    flow = program.flows.get(waiting.flow)
    if flow is None or waiting.step >= len(flow.steps):
        return False
    if found.intent is Intent.OTHER:
        return True
    return found.intent is Intent.KEYWORD and not flow.steps[waiting.step].interrupt


class _FlowSteps:
    """Turns a flow's actions into replies (sent now, in the TwiML) and property changes."""

    def __init__(
        self,
        message: InboundMessage,
        subscriber: SubscriberState,
        program: Program,
        policy: Policy,
        updates: dict[str, Any],
        voice: Voice,
        status: Status,
    ) -> None:
        self.message, self.original, self.program, self.policy = message, subscriber, program, policy
        self.updates, self.voice, self.status = updates, voice, status

    def subscriber(self) -> SubscriberState:
        return replace(
            self.original,
            status=self.status,
            language=self.updates.get("language", self.original.language),
            properties=self.updates.get("properties", self.original.properties),
        )

    def carry_out(
        self, actions: tuple[FlowAction, ...], active: frozenset[str], runs: list[RunChange]
    ) -> list[tuple[str, tuple[str, ...]]]:
        said: list[tuple[str, tuple[str, ...]]] = []
        for action in actions:
            if isinstance(action, Send):
                said.append((action.text, action.media))
            elif isinstance(action, SendCard):
                said.append(self.card(action.card))
            elif isinstance(action, SetProperty):
                properties = {**self.subscriber().properties, action.name: action.value}
                self.updates["properties"] = properties
                if action.name == "language":
                    _set_language(self.updates, str(action.value), "property")
            elif isinstance(action, StartFlow) and action.flow not in active:
                # Another flow begins at its first step when the worker next looks; not inside this reply.
                runs.append(
                    RunChange(action.flow, RunState(action.flow, 0, due_at=self.message.received_at), True)
                )
        return said

    def card(self, name: str) -> tuple[str, tuple[str, ...]]:
        return card_message(name, self.original.phone, self.policy, self.voice)


def card_message(name: str, phone: str, policy: Policy, voice: Voice) -> tuple[str, tuple[str, ...]]:
    """A contact card as (text, media): MMS where the carrier delivers it, else a link or nothing."""
    url = f"{policy.public_url or ''}/vcards/{name}.vcf"
    if policy.public_url and region_of(phone) in policy.mms_countries:
        return ("", (url,))  # MMS: the card itself
    if policy.card_elsewhere == "skip":
        return ("", ())  # dropped with the other empty replies
    return (voice.say(replies.CARD_LINK, url=url), ())  # where MMS is not delivered: a link


def _flow_to_start(
    found: Match, model: SubscriptionModel, subscriber: SubscriberState, program: Program
) -> str | None:
    """A keyword's flow starts once the subscriber is in: on opt-in, on the Y of a double opt-in, or
    from a subscriber's preference keyword. Never for someone not (or no longer) subscribed."""
    actions = {change.action for change in model.changes}
    if found.intent is Intent.CONFIRM and Action.OPT_IN_CONFIRMED in actions:
        keyword = program.keywords.get(subscriber.opt_in_keyword or "")
        return keyword.flow if keyword is not None else None
    keyword = found.keyword
    if found.intent is not Intent.KEYWORD or keyword is None or not keyword.flow:
        return None
    if keyword.kind is KeywordKind.OPT_IN and Action.OPT_IN in actions:
        return keyword.flow
    if keyword.kind is KeywordKind.PREFERENCE and model.status is Status.SUBSCRIBED:
        return keyword.flow
    return None


def _respond(
    found: Match,
    model: SubscriptionModel,
    subscriber: SubscriberState,
    program: Program,
    policy: Policy,
    updates: dict[str, Any],
    voice: Voice,
) -> list[str]:
    status = model.status

    if found.intent is Intent.OPT_OUT:
        changed = fire(model, Action.OPT_OUT, keyword=found.word)
        # One confirmation, then silence: a repeated STOP is recorded but not answered.
        if changed and not policy.carrier_sends_confirmations:
            return [voice.say(replies.OPTED_OUT)]
        return []

    if found.intent is Intent.HELP:
        return [voice.say(replies.HELP)]

    if found.intent is Intent.CONFIRM:
        keyword = program.keywords.get(subscriber.opt_in_keyword or "")
        fire(
            model, Action.OPT_IN_CONFIRMED, keyword=subscriber.opt_in_keyword, source=subscriber.opt_in_source
        )
        properties = _changed(keyword, subscriber, updates)  # held back until they confirmed
        return [_confirmation(keyword, properties, voice)]

    if found.intent is Intent.OPT_IN:
        word = found.word or "START"
        if status is Status.SUBSCRIBED:
            return [voice.say(replies.ALREADY_SUBSCRIBED)]
        if status is Status.NEW and word == "YES":
            # A bare YES from a stranger is no consent to a program they never asked for.
            return _unrecognised(status, program, voice)
        fire(model, Action.OPT_IN, keyword=word, source=word)
        updates.update(opt_in_keyword=word, opt_in_source=word)
        if policy.carrier_sends_confirmations:
            return []
        return [voice.say(replies.REJOINED)]

    if found.intent is Intent.KEYWORD and found.keyword is not None:
        return _keyword(found.keyword, model, subscriber, program, updates, voice)

    return _unrecognised(status, program, voice)


def _keyword(
    keyword: Keyword,
    model: SubscriptionModel,
    subscriber: SubscriberState,
    program: Program,
    updates: dict[str, Any],
    voice: Voice,
) -> list[str]:
    status = model.status
    if keyword.kind is KeywordKind.LANGUAGE:
        _set_language(updates, keyword.language, f"keyword:{keyword.name}")
        # An unsubscribed number gets nothing, not even this; the choice is still kept.
        return [] if status is Status.UNSUBSCRIBED else [voice.say(replies.LANGUAGE_SET)]

    if keyword.kind is KeywordKind.PREFERENCE:
        if status is not Status.SUBSCRIBED:
            return _unrecognised(status, program, voice)  # no marketing, and no profile, before an opt-in
        properties = _changed(keyword, subscriber, updates)
        if keyword.reply is not None:
            return [voice.message(keyword.reply, properties)]
        return [voice.say(replies.PREFERENCE_SAVED)]

    if status is Status.SUBSCRIBED:
        _changed(keyword, subscriber, updates)
        return [voice.say(replies.ALREADY_SUBSCRIBED)]
    if keyword.language:
        _set_language(updates, keyword.language, f"keyword:{keyword.name}")
    if keyword.double_opt_in:
        if status is not Status.PENDING:
            fire(model, Action.OPT_IN_REQUESTED, keyword=keyword.name, source=keyword.source)
        updates.update(opt_in_keyword=keyword.name, opt_in_source=keyword.source)
        return [voice.say(replies.CONFIRM_PROMPT)]
    fire(model, Action.OPT_IN, keyword=keyword.name, source=keyword.source)
    updates.update(opt_in_keyword=keyword.name, opt_in_source=keyword.source)
    properties = _changed(keyword, subscriber, updates)
    return [_confirmation(keyword, properties, voice)]


def _set_language(updates: dict[str, Any], language: str | None, source: str) -> None:
    if language:
        updates["language"] = language
        updates["language_source"] = source


def _changed(keyword: Keyword | None, subscriber: SubscriberState, updates: dict[str, Any]) -> dict[str, Any]:
    """The subscriber's properties after the keyword's changes; recorded in `updates` if any.

    A `language` property is the subscriber's language too (a flow may ask for it); a value no
    catalog matches is kept as given and falls back to the default when we speak.
    """
    properties = dict(subscriber.properties)
    if keyword is None or not keyword.changes:
        return properties
    for change in keyword.changes:
        change.apply(properties)
    if properties != subscriber.properties:
        updates["properties"] = properties
        if properties.get("language") and properties.get("language") != subscriber.properties.get("language"):
            _set_language(updates, str(properties["language"]), "property")
    return properties


def _confirmation(keyword: Keyword | None, properties: Mapping[str, Any], voice: Voice) -> str:
    if keyword is not None and keyword.reply is not None:
        return voice.message(keyword.reply, properties)
    return voice.say(replies.OPTED_IN)


def _unrecognised(status: Status, program: Program, voice: Voice) -> list[str]:
    if status is Status.SUBSCRIBED:
        if not program.reply_to_unknown:
            return []
        if program.fallback is not None:
            return [voice.message(program.fallback, voice.subscriber.properties)]
        return [voice.say(replies.FALLBACK)]
    if status is Status.PENDING:
        return [voice.say(replies.CONFIRM_PROMPT)]
    if status is Status.NEW and program.reply_to_strangers:
        join = program.join_word
        if program.not_subscribed is not None:
            return [voice.message(program.not_subscribed, {})]
        if join:
            return [voice.say(replies.NOT_SUBSCRIBED, join=join)]
        return [voice.say(replies.NOT_SUBSCRIBED_NO_KEYWORD)]
    return []  # unsubscribed: silence
