"""What we answer to each intent, and what it changes: consent, language, properties.

Flows are not here: `conversation` runs them around these answers through `flow_effects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import replies
from bot.domain.compliance import Intent
from bot.domain.flow_effects import set_language
from bot.domain.matcher import Match
from bot.domain.model import Keyword, KeywordKind, Program
from bot.domain.outcome import Policy
from bot.domain.subscription import Action, Status, SubscriptionModel, fire
from bot.domain.voice import SubscriberState, Voice


@dataclass(slots=True)
class Answering:
    """One message being answered: what was found in it, and what answering it changes."""

    found: Match
    model: SubscriptionModel  # the subscription machine: its changes become consent records
    subscriber: SubscriberState  # as they were before the message
    program: Program
    policy: Policy
    updates: dict[str, Any]  # subscriber fields the answer changes
    voice: Voice
    now: datetime
    talking: bool = False  # a conversation with a person is open
    status: Status = Status.NEW  # the machine's, kept current by `fire` below
    for_a_person: bool = False  # set when nothing here consumed the text: a person should read it

    def __post_init__(self) -> None:
        self.status = self.model.status

    def fire(self, action: Action, keyword: str | None = None, source: str | None = None) -> bool:
        changed = fire(self.model, action, keyword=keyword, source=source)
        self.status = self.model.status
        return changed


def respond(a: Answering) -> list[str]:
    found, voice = a.found, a.voice
    if found.intent is Intent.OPT_OUT:
        changed = a.fire(Action.OPT_OUT, keyword=found.word, source=found.source)
        # One confirmation, then silence: a repeated STOP is recorded but not answered.
        if changed and not a.policy.carrier_sends_confirmations:
            return [voice.say(replies.OPTED_OUT)]
        return []
    if found.intent is Intent.HELP:
        return [voice.say(replies.HELP)]
    if found.intent is Intent.UNCLEAR_OPT_OUT:
        if a.status in (Status.SUBSCRIBED, Status.PENDING):
            return [voice.say(replies.ASK_OPT_OUT)]  # one short question, no marketing
        return _unrecognised(a)
    if found.intent is Intent.CONFIRM:
        return _confirmed(a)
    if found.intent is Intent.OPT_IN:
        return _opted_in_again(a, found.word or "START")
    if found.intent is Intent.KEYWORD and found.keyword is not None:
        return _keyword(a, found.keyword)
    return _unrecognised(a)


def _confirmed(a: Answering) -> list[str]:
    """The Y of a double opt-in: subscribed now, with what the keyword set held back until then."""
    subscriber = a.subscriber
    keyword = a.program.keywords.get(subscriber.opt_in_keyword or "")
    a.fire(Action.OPT_IN_CONFIRMED, keyword=subscriber.opt_in_keyword, source=subscriber.opt_in_source)
    return [_confirmation(keyword, _changed(a, keyword), a.voice)]


def _opted_in_again(a: Answering, word: str) -> list[str]:
    if a.status is Status.SUBSCRIBED:
        return [a.voice.say(replies.ALREADY_SUBSCRIBED)]
    if a.status is Status.NEW and word == "YES":
        # A bare YES from a stranger is no consent to a program they never asked for.
        return _unrecognised(a)
    a.fire(Action.OPT_IN, keyword=word, source=word)
    a.updates.update(opt_in_keyword=word, opt_in_source=word)
    return [] if a.policy.carrier_sends_confirmations else [a.voice.say(replies.REJOINED)]


def _keyword(a: Answering, keyword: Keyword) -> list[str]:
    voice = a.voice
    if keyword.kind is KeywordKind.LANGUAGE:
        set_language(a.updates, keyword.language, f"keyword:{keyword.name}")
        # An unsubscribed number gets nothing, not even this; the choice is still kept.
        return [] if a.status is Status.UNSUBSCRIBED else [voice.say(replies.LANGUAGE_SET)]
    if keyword.kind is KeywordKind.PREFERENCE:
        if a.status is not Status.SUBSCRIBED:
            return _unrecognised(a)  # no marketing, and no profile, before an opt-in
        properties = _changed(a, keyword)
        if keyword.reply is not None:
            return [voice.message(keyword.reply, properties, f"keyword:{keyword.name}")]
        return [voice.say(replies.PREFERENCE_SAVED)]
    if a.status is Status.SUBSCRIBED:
        return [_already_subscribed(a, keyword)]
    return _opt_in(a, keyword)


def _already_subscribed(a: Answering, keyword: Keyword) -> str:
    """An opt-in keyword from someone already in (SHOES after JOIN): what it stores is stored, and
    the answer acknowledges it: the keyword's own `already_subscribed`, else smsbot's own words for
    an interest saved, else that they are already subscribed."""
    before = a.subscriber.properties
    properties = _changed(a, keyword)
    if keyword.already_subscribed is not None:
        return a.voice.message(keyword.already_subscribed, properties, f"keyword:{keyword.name}")
    if properties != before:
        return a.voice.say(replies.INTEREST_SAVED)
    return a.voice.say(replies.ALREADY_SUBSCRIBED)


def _opt_in(a: Answering, keyword: Keyword) -> list[str]:
    if keyword.language:
        set_language(a.updates, keyword.language, f"keyword:{keyword.name}")
    a.updates.update(opt_in_keyword=keyword.name, opt_in_source=keyword.source)
    if keyword.double_opt_in:
        if a.status is not Status.PENDING:
            a.fire(Action.OPT_IN_REQUESTED, keyword=keyword.name, source=keyword.source)
        return [a.voice.say(replies.CONFIRM_PROMPT)]
    a.fire(Action.OPT_IN, keyword=keyword.name, source=keyword.source)
    return [_confirmation(keyword, _changed(a, keyword), a.voice)]


def _changed(a: Answering, keyword: Keyword | None) -> dict[str, Any]:
    """The subscriber's properties after the keyword's changes; recorded in `updates` if any.

    A `language` property is the subscriber's language too (a flow may ask for it); a value no
    catalog matches is kept as given and falls back to the default when we speak.
    """
    before = a.subscriber.properties
    properties = dict(before)
    if keyword is None or not keyword.changes:
        return properties
    for change in keyword.changes:
        change.apply(properties)
    if properties != before:
        a.updates["properties"] = properties
        if properties.get("language") and properties.get("language") != before.get("language"):
            set_language(a.updates, str(properties["language"]), "property")
    return properties


def _confirmation(keyword: Keyword | None, properties: Mapping[str, Any], voice: Voice) -> str:
    if keyword is not None and keyword.reply is not None:
        return voice.message(keyword.reply, properties, f"keyword:{keyword.name}")
    return voice.say(replies.OPTED_IN)


def _unrecognised(a: Answering) -> list[str]:
    """A text the program does not know: for a person to read (the inbox). Inside an open
    conversation nothing automatic answers; one that opens gets the inbox's auto-reply, if the
    program has one, else the usual answer."""
    program, voice = a.program, a.voice
    a.for_a_person = True
    if a.talking:
        return []
    automatic = program.inbox.automatic(a.now, ZoneInfo(program.info.timezone))
    if automatic is not None and a.status in (Status.SUBSCRIBED, Status.NEW):
        return [voice.message(automatic, voice.subscriber.properties, "inbox")]
    if a.status is Status.SUBSCRIBED:
        if not program.reply_to_unknown:
            return []
        if program.fallback is not None:
            return [voice.message(program.fallback, voice.subscriber.properties)]
        return [voice.say(replies.FALLBACK)]
    if a.status is Status.PENDING:
        return [voice.say(replies.CONFIRM_PROMPT)]
    if a.status is Status.NEW and program.reply_to_strangers:
        if program.not_subscribed is not None:
            return [voice.message(program.not_subscribed, {})]
        if program.join_word:
            return [voice.say(replies.NOT_SUBSCRIBED, join=program.join_word)]
        return [voice.say(replies.NOT_SUBSCRIBED_NO_KEYWORD)]
    return []  # unsubscribed: silence
