"""One subscriber, one decision: a message they texted, or a flow step of theirs falling due.

Both come out as an `Outcome` that the pipeline carries out the same way (mailroom's "one runner
for messages and timers"); flow actions go through `flow_effects` in both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain import replies
from bot.domain.compliance import Intent
from bot.domain.flow_effects import FlowEffects, Said
from bot.domain.flow_runner import RunState
from bot.domain.inbound import InboundMessage
from bot.domain.inbox import Converse, converse
from bot.domain.matcher import Match, match
from bot.domain.model import KeywordKind, Program
from bot.domain.outcome import Flows, Outcome, Policy
from bot.domain.properties import VCARD_RECEIVED
from bot.domain.responses import Answering, respond
from bot.domain.subscription import Action, ConsentChange, Status, SubscriptionModel, fire
from bot.domain.text import sendable
from bot.domain.voice import SubscriberState, Voice


def decide(
    message: InboundMessage,
    subscriber: SubscriberState,
    program: Program,
    policy: Policy,
    flows: Flows | None = None,
    talking: bool = False,
) -> Outcome:
    """`talking`: a conversation with a person is open (the inbox)."""
    found = match(message.body, program, subscriber.status, message.opt_out_type)
    model = SubscriptionModel(subscriber.status)
    flows = flows or Flows()
    is_answer = _answers_question(found, model, program, flows)
    updates: dict[str, Any] = {}
    said: list[Said] = []
    for_a_person = False
    if not is_answer:
        voice = Voice(found, subscriber, program, updates)
        answering = Answering(
            found, model, subscriber, program, policy, updates, voice, message.received_at, talking
        )
        said = [(text, ()) for text in respond(answering)]
        for_a_person = answering.for_a_person
    _stamp(model.changes, updates, message.received_at)
    if model.changes:
        updates["status"] = model.status

    effects = FlowEffects(
        subscriber, program, policy, message.received_at, model.status, updates, set(flows.active)
    )
    if is_answer and flows.waiting is not None:
        effects.answer(flows.waiting, message.body)
    start = _flow_to_start(found, model, subscriber, program)
    if start and start not in flows.active:
        effects.start(start)
    consent = (*model.changes, *_asked(found, model.status))
    opted_out = any(change.to_status is Status.UNSUBSCRIBED for change in model.changes)
    outcome = _outcome(found, model.status, consent, [*said, *effects.said], effects)
    return replace(outcome, converse=converse(for_a_person, opted_out, talking))


def _asked(found: Match, status: Status) -> tuple[ConsentChange, ...]:
    """An unclear opt-out sentence we asked about goes in the consent log, for the marketer to see."""
    if found.intent is not Intent.UNCLEAR_OPT_OUT or status not in _ASKED:
        return ()
    return (ConsentChange(Action.OPT_OUT_ASKED, status, status, None, found.source),)


_ASKED = (Status.SUBSCRIBED, Status.PENDING)


def step_due(
    run: RunState,
    subscriber: SubscriberState,
    program: Program,
    policy: Policy,
    flows: Flows,
    now: datetime,
) -> Outcome:
    """A run's wait ended or its question timed out: it goes on to its next pause. No marketing
    without consent: the runs of someone no longer subscribed end here, and nothing is sent."""
    if subscriber.status is not Status.SUBSCRIBED:
        return Outcome(Intent.OTHER, subscriber.status, cancel_flows=True)
    effects = FlowEffects(subscriber, program, policy, now, subscriber.status, {}, set(flows.active))
    effects.fall_due(run)
    return _outcome(Match(Intent.OTHER), subscriber.status, (), effects.said, effects)


def opted_out_at_carrier(subscriber: SubscriberState, source: str, at: datetime) -> Outcome:
    """The carrier refuses to deliver to a number that opted out there: the same opt-out as a STOP,
    recorded with the carrier as its source; flows end and nothing queued goes out."""
    model = SubscriptionModel(subscriber.status)
    if not fire(model, Action.OPT_OUT, source=source):
        return Outcome(Intent.OTHER, subscriber.status)
    return Outcome(
        Intent.OPT_OUT,
        model.status,
        consent=tuple(model.changes),
        updates={"status": model.status, "unsubscribed_at": at},
        cancel_flows=True,
        converse=Converse.CLOSED,  # their conversation with a person, if one is open, ends too
    )


def card_delivered(subscriber: SubscriberState) -> Outcome:
    """The contact card reached their phone: remembered as a property segments and flows can use."""
    if subscriber.properties.get(VCARD_RECEIVED) is True:
        return Outcome(Intent.OTHER, subscriber.status)
    properties = {**subscriber.properties, VCARD_RECEIVED: True}
    return Outcome(Intent.OTHER, subscriber.status, updates={"properties": properties})


def _stamp(changes: list[ConsentChange], updates: dict[str, Any], at: datetime) -> None:
    for change in changes:
        if change.to_status is Status.SUBSCRIBED:
            updates["subscribed_at"] = at
        elif change.to_status is Status.UNSUBSCRIBED:
            updates["unsubscribed_at"] = at


def _outcome(
    found: Match, status: Status, consent: tuple[ConsentChange, ...], said: list[Said], effects: FlowEffects
) -> Outcome:
    kept = [(sendable(text), media) for text, media in said if text or media]
    return Outcome(
        intent=found.intent,
        status=status,
        word=found.word,
        consent=consent,
        replies=tuple(text for text, _ in kept),
        updates=effects.updates,
        keyword=found.keyword.name if found.keyword is not None else None,
        misspelt=found.misspelt,
        said=found.said,
        cancel_flows=any(change.to_status is Status.UNSUBSCRIBED for change in consent),
        media={i: media for i, (_, media) in enumerate(kept) if media},
        runs=tuple(effects.runs),
        failed=tuple(effects.failed),
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


def web_opt_in(subscriber: SubscriberState, program: Program, form: str, at: datetime) -> Outcome:
    """Someone asked on the sign-up page `form` for texts to this number: a double opt-in, always.
    They are asked to reply Y (the keyword the program advertises becomes theirs, so the Y runs
    what texting it runs), with `web:{form}` as the opt-in source. A subscriber gets nothing more;
    one already asked is asked again."""
    if subscriber.status is Status.SUBSCRIBED:
        return Outcome(Intent.OTHER, subscriber.status)
    model = SubscriptionModel(subscriber.status)
    updates: dict[str, Any] = {}
    if subscriber.status is not Status.PENDING:
        source = f"web:{form}"
        fire(model, Action.OPT_IN_REQUESTED, keyword=program.join_word, source=source)
        updates.update(opt_in_keyword=program.join_word, opt_in_source=source, status=model.status)
        _stamp(model.changes, updates, at)
    prompt = sendable(Voice.to(subscriber, program).say(replies.CONFIRM_PROMPT))
    return Outcome(
        Intent.OPT_IN, model.status, consent=tuple(model.changes), replies=(prompt,), updates=updates
    )
