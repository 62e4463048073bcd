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
from bot.i18n import SOURCE_LANGUAGE, locale_for, negotiate, translations
from bot.program.model import Keyword, KeywordKind, Program
from bot.program.templates import LocalizedMessage


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
    start_flow: str | None = None  # a flow to start for the subscriber (not twice while it runs)
    cancel_flows: bool = False  # opted out: every running flow ends now, nothing queued goes out


@dataclass(frozen=True)
class Policy:
    """Operator switches that change what the core says, not what it records."""

    carrier_sends_confirmations: bool = False


class Voice:
    """Who we are talking to, and in which language: every reply goes through here.

    A compliance word in another language is answered in that language (ALTO gets Spanish, even
    from an English subscriber, and changes nothing else); everything else in the subscriber's
    language, including a change this very message made (UNETE, ESPAÑOL); each negotiated down the
    locale chain (es_MX -> es -> the program's default) to a catalog smsbot has.
    """

    def __init__(
        self, found: Match, subscriber: SubscriberState, program: Program, updates: Mapping[str, Any]
    ) -> None:
        self.found = found
        self.subscriber = subscriber
        self.program = program
        self.updates = updates

    @property
    def language(self) -> str:
        default = self.program.info.default_language
        word = self.found.language
        if self.found.intent in _COMPLIANCE and word and word != SOURCE_LANGUAGE:
            return negotiate(word, default)
        return negotiate(self.updates.get("language") or self.subscriber.language, default)

    def say(self, template: str, **extra: str) -> str:
        language = self.language
        return replies.render(template, self.program.info, translations(language).gettext, language, **extra)

    def message(self, message: LocalizedMessage, properties: Mapping[str, Any]) -> str:
        language = self.language
        context = {
            **properties,
            **self.program.info.context(language),
            "join": self.program.join_word or "",
            "locale": locale_for(language, self.subscriber.phone),
        }
        return message.render(context, language)


_COMPLIANCE = frozenset({Intent.OPT_OUT, Intent.HELP, Intent.OPT_IN})


def decide(message: InboundMessage, subscriber: SubscriberState, program: Program, policy: Policy) -> Outcome:
    found = match(message.body, program, subscriber.status, message.opt_out_type)
    model = SubscriptionModel(subscriber.status)
    updates: dict[str, Any] = {}
    voice = Voice(found, subscriber, program, updates)
    said = _respond(found, model, subscriber, program, policy, updates, voice)

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
        start_flow=_flow_to_start(found, model, subscriber, program),
        cancel_flows=any(change.to_status is Status.UNSUBSCRIBED for change in model.changes),
    )


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
