"""One inbound message, one decision: what changes for the subscriber and what we reply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import replies
from bot.core.compliance import Intent
from bot.core.inbound import InboundMessage
from bot.core.matcher import Match, match
from bot.core.subscription import Action, ConsentChange, Status, SubscriptionModel, fire
from bot.program.model import Keyword, KeywordKind, Program


@dataclass(frozen=True)
class SubscriberState:
    """What the core needs to know of a subscriber; loaded before, saved after."""

    phone: str
    status: Status = Status.NEW
    language: str | None = None
    opt_in_source: str | None = None
    opt_in_keyword: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    intent: Intent
    word: str | None
    status: Status
    consent: tuple[ConsentChange, ...]
    replies: tuple[str, ...]
    updates: Mapping[str, Any]  # subscriber fields to store
    keyword: str | None = None  # the program keyword texted, recorded as an event whatever the status


@dataclass(frozen=True)
class Policy:
    """Operator switches that change what the core says, not what it records."""

    carrier_sends_confirmations: bool = False


def decide(message: InboundMessage, subscriber: SubscriberState, program: Program, policy: Policy) -> Outcome:
    found = match(message.body, program, subscriber.status, message.opt_out_type)
    model = SubscriptionModel(subscriber.status)
    updates: dict[str, Any] = {}
    said = _respond(found, model, subscriber, program, policy, updates)

    for change in model.changes:
        if change.to_status is Status.SUBSCRIBED:
            updates["subscribed_at"] = message.received_at
        elif change.to_status is Status.UNSUBSCRIBED:
            updates["unsubscribed_at"] = message.received_at
    if model.changes:
        updates["status"] = model.status

    return Outcome(
        intent=found.intent,
        word=found.word,
        status=model.status,
        consent=tuple(model.changes),
        replies=tuple(r for r in said if r),
        updates=updates,
        keyword=found.keyword.name if found.keyword is not None else None,
    )


def _respond(
    found: Match,
    model: SubscriptionModel,
    subscriber: SubscriberState,
    program: Program,
    policy: Policy,
    updates: dict[str, Any],
) -> list[str]:
    info = program.info
    status = model.status

    if found.intent is Intent.OPT_OUT:
        changed = fire(model, Action.OPT_OUT, keyword=found.word)
        # One confirmation, then silence: a repeated STOP is recorded but not answered.
        if changed and not policy.carrier_sends_confirmations:
            return [replies.render(replies.OPTED_OUT, info)]
        return []

    if found.intent is Intent.HELP:
        return [replies.render(replies.HELP, info)]

    if found.intent is Intent.CONFIRM:
        keyword = program.keywords.get(subscriber.opt_in_keyword or "")
        fire(
            model, Action.OPT_IN_CONFIRMED, keyword=subscriber.opt_in_keyword, source=subscriber.opt_in_source
        )
        properties = _changed(keyword, subscriber, updates)  # held back until they confirmed
        return [_confirmation(keyword, properties, program)]

    if found.intent is Intent.OPT_IN:
        word = found.word or "START"
        if status is Status.SUBSCRIBED:
            return [replies.render(replies.ALREADY_SUBSCRIBED, info)]
        if status is Status.NEW and word == "YES":
            # A bare YES from a stranger is no consent to a program they never asked for.
            return _unrecognised(status, program)
        fire(model, Action.OPT_IN, keyword=word, source=word)
        updates.update(opt_in_keyword=word, opt_in_source=word)
        if policy.carrier_sends_confirmations:
            return []
        return [replies.render(replies.REJOINED, info)]

    if found.intent is Intent.KEYWORD and found.keyword is not None:
        return _keyword(found.keyword, model, subscriber, program, updates)

    return _unrecognised(status, program)


def _keyword(
    keyword: Keyword,
    model: SubscriptionModel,
    subscriber: SubscriberState,
    program: Program,
    updates: dict[str, Any],
) -> list[str]:
    info = program.info
    status = model.status
    if keyword.kind is KeywordKind.PREFERENCE:
        if status is not Status.SUBSCRIBED:
            return _unrecognised(status, program)  # no marketing, and no profile, before an opt-in
        properties = _changed(keyword, subscriber, updates)
        if keyword.reply is not None:
            return [keyword.reply.render(_context(properties, program))]
        return [replies.render(replies.PREFERENCE_SAVED, info)]

    if status is Status.SUBSCRIBED:
        _changed(keyword, subscriber, updates)
        return [replies.render(replies.ALREADY_SUBSCRIBED, info)]
    if keyword.language and not subscriber.language:
        updates["language"] = keyword.language
    if keyword.double_opt_in:
        if status is not Status.PENDING:
            fire(model, Action.OPT_IN_REQUESTED, keyword=keyword.name, source=keyword.source)
        updates.update(opt_in_keyword=keyword.name, opt_in_source=keyword.source)
        return [replies.render(replies.CONFIRM_PROMPT, info)]
    fire(model, Action.OPT_IN, keyword=keyword.name, source=keyword.source)
    updates.update(opt_in_keyword=keyword.name, opt_in_source=keyword.source)
    properties = _changed(keyword, subscriber, updates)
    return [_confirmation(keyword, properties, program)]


def _changed(keyword: Keyword | None, subscriber: SubscriberState, updates: dict[str, Any]) -> dict[str, Any]:
    """The subscriber's properties after the keyword's changes; recorded in `updates` if any."""
    properties = dict(subscriber.properties)
    if keyword is None or not keyword.changes:
        return properties
    for change in keyword.changes:
        change.apply(properties)
    if properties != subscriber.properties:
        updates["properties"] = properties
    return properties


def _context(properties: Mapping[str, Any], program: Program) -> dict[str, Any]:
    return {**properties, **program.info.context()}


def _confirmation(keyword: Keyword | None, properties: Mapping[str, Any], program: Program) -> str:
    if keyword is not None and keyword.reply is not None:
        return keyword.reply.render(_context(properties, program))
    return replies.render(replies.OPTED_IN, program.info)


def _unrecognised(status: Status, program: Program) -> list[str]:
    info = program.info
    if status is Status.SUBSCRIBED:
        if not program.reply_to_unknown:
            return []
        if program.fallback is not None:
            return [program.fallback.render(info.context())]
        return [replies.render(replies.FALLBACK, info)]
    if status is Status.PENDING:
        return [replies.render(replies.CONFIRM_PROMPT, info)]
    if status is Status.NEW and program.reply_to_strangers:
        join = program.join_word
        if program.not_subscribed is not None:
            return [program.not_subscribed.render({**info.context(), "join": join or ""})]
        if join:
            return [replies.render(replies.NOT_SUBSCRIBED, info, join=join)]
        return [replies.render(replies.NOT_SUBSCRIBED_NO_KEYWORD, info)]
    return []  # unsubscribed: silence
