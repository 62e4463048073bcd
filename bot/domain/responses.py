"""What we answer to each intent, and what it changes: consent, language, properties.

Flows are not here: `conversation` runs them around these answers through `flow_effects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import replies
from bot.domain.compliance import Intent
from bot.domain.flow_effects import set_language
from bot.domain.matcher import Match
from bot.domain.model import Keyword, KeywordKind, Program
from bot.domain.outcome import Policy
from bot.domain.subscription import Action, Status, SubscriptionModel, fire
from bot.domain.voice import SubscriberState, Voice


def respond(
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
        set_language(updates, keyword.language, f"keyword:{keyword.name}")
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
        set_language(updates, keyword.language, f"keyword:{keyword.name}")
    if keyword.double_opt_in:
        if status is not Status.PENDING:
            fire(model, Action.OPT_IN_REQUESTED, keyword=keyword.name, source=keyword.source)
        updates.update(opt_in_keyword=keyword.name, opt_in_source=keyword.source)
        return [voice.say(replies.CONFIRM_PROMPT)]
    fire(model, Action.OPT_IN, keyword=keyword.name, source=keyword.source)
    updates.update(opt_in_keyword=keyword.name, opt_in_source=keyword.source)
    properties = _changed(keyword, subscriber, updates)
    return [_confirmation(keyword, properties, voice)]


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
            set_language(updates, str(properties["language"]), "property")
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
