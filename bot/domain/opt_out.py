"""Opt-outs said in a sentence: a clear request, a clear ordinary reply, or unclear (we ask).

Single compliance words (STOP, ALTO, ARRET...) are matched exactly before this runs. Here a message
is read clause by clause (split at . ! ? ; , and "but"), so "No. Stop." is a refusal and then a STOP,
and "Stop by Friday? We need to cancel the order" is neither. Each clause is read with the rules of
every language smsbot knows (a missed opt-out is the costly mistake) plus a program's own phrases:

- REQUEST: a request phrase ("unsubscribe", "remove me from the list", "no me escriban", "ne
  m'écrivez plus"), a stop verb with what we send ("stop texting me", "dejen de enviarme", "arrêtez
  les messages"), a stop verb alone in a short clause ("stop please", "please stop", "basta ya") or
  opening a message of at most 8 words ("STOP never signed up") -- unless the message delights in
  something ("Stop! These prices are amazing" is unclear).
- NONE: no trigger; a trigger negated just before it ("don't stop the deals"); a stop verb for going
  somewhere ("stop by", "stop in"); a clause about something not ours to stop (an order, a delivery,
  emails, a subscription box) that names none of our texts.
- UNCLEAR: a trigger we cannot place ("can you stop", "not interested", "too many"). The subscriber
  gets one short question ("Reply STOP to stop getting texts") and the marketer sees a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.opt_out_words import BUILT_IN, Rules
from bot.domain.text import fold

_CLAUSES = re.compile(r"[.!?;,:\n¡¿]+|\s(?:but|pero|mais)\s", re.IGNORECASE)
MAX_CLAUSES = 40  # a carrier's message has few; a paragraph is read no further
SHORT = 8  # words: STOP opening a message this short is a STOP


class Reading(StrEnum):
    REQUEST = "request"
    UNCLEAR = "unclear"
    NONE = "none"


class _Clause(StrEnum):
    """One language's reading of one clause; a reason not to outranks another language's doubt."""

    REQUEST = "request"
    BARE = "bare"  # a stop verb alone ("Stop!"): a request, unless the message delights in something
    NOT = "not"  # a trigger, and a reason it is no request: negated, a visit, about an order
    UNCLEAR = "unclear"
    SILENT = "silent"  # no trigger at all


@dataclass(frozen=True)
class Read:
    reading: Reading
    language: str | None = None  # whose rule read it: the confirmation is said in that language


def read(body: str, extra: Mapping[str, Iterable[tuple[str, ...]]] | None = None) -> Read:
    """How to take a message that is not a single compliance word; `extra`: a program's own
    request phrases per language, folded."""
    clauses = [tokens for tokens in (fold(c).split() for c in _CLAUSES.split(body)[:MAX_CLAUSES]) if tokens]
    bare: str | None = None
    unclear: str | None = None
    for tokens in clauses:
        for language, phrases in (extra or {}).items():
            if any(_at(tokens, phrase) is not None for phrase in phrases):
                return Read(Reading.REQUEST, language)
        readings = {language: _clause(tokens, rules) for language, rules in BUILT_IN.items()}
        for language, reading in readings.items():
            if reading is _Clause.REQUEST:
                return Read(Reading.REQUEST, language)
            if reading is _Clause.BARE and bare is None and _Clause.NOT not in readings.values():
                bare = language
        doubt = [language for language, reading in readings.items() if reading is _Clause.UNCLEAR]
        if doubt and _Clause.NOT not in readings.values() and unclear is None:
            unclear = doubt[0]
    if bare is not None:
        return Read(Reading.UNCLEAR if _delighted(clauses) else Reading.REQUEST, bare)
    return Read(Reading.UNCLEAR, unclear) if unclear is not None else Read(Reading.NONE)


def _delighted(clauses: list[list[str]]) -> bool:
    return any(t in rules.delight for tokens in clauses for t in tokens for rules in BUILT_IN.values())


def _at(tokens: list[str], phrase: tuple[str, ...]) -> int | None:
    """Where `phrase` stands in `tokens` ("*" stands for any one word), or None."""
    size = len(phrase)
    for i in range(len(tokens) - size + 1):
        if all(want in ("*", got) for want, got in zip(phrase, tokens[i : i + size], strict=True)):
            return i
    return None


def _negated(tokens: list[str], start: int, rules: Rules) -> bool:
    """A negation among the three words before: "don't stop", "not able to stop"."""
    return any(t in rules.negations for t in tokens[max(0, start - 3) : start])


def _clause(tokens: list[str], rules: Rules) -> _Clause:
    if rules.triggers.isdisjoint(tokens):
        return _Clause.SILENT  # most messages: nothing here could be an opt-out
    about_other = any(t in rules.not_ours for t in tokens) and not any(t in rules.ours for t in tokens)
    for i, token in enumerate(tokens):
        for phrase in rules.by_first.get(token, ()):
            if _at(tokens[i : i + len(phrase)], phrase) is None:
                continue
            negated = phrase[0] not in rules.negations and _negated(tokens, i, rules)
            return _Clause.NOT if about_other or negated else _Clause.REQUEST
    if _refuses_ours(tokens, rules) and not about_other:
        return _Clause.REQUEST  # I don't want any more messages, no deseo recibir mensajes
    readings = [_stop_verb(tokens, i, rules, about_other) for i, t in enumerate(tokens) if t in rules.stops]
    for reading in (_Clause.REQUEST, _Clause.BARE, _Clause.NOT, _Clause.UNCLEAR):
        if reading in readings:
            return reading
    if any(_at(tokens, p) is not None for p in rules.unclear):
        return _Clause.NOT if about_other else _Clause.UNCLEAR
    return _Clause.SILENT


def _refuses_ours(tokens: list[str], rules: Rules) -> bool:
    """A negation, then a want, then something we send: "I don't want your texts"."""
    for i, token in enumerate(tokens):
        if token in rules.wants and _negated(tokens, i, rules):
            return any(t in rules.ours for t in tokens[i + 1 :])
    return False


def _stop_verb(tokens: list[str], i: int, rules: Rules, about_other: bool) -> _Clause:
    after = tokens[i + 1 : i + 3]
    if about_other or _negated(tokens, i, rules):
        return _Clause.NOT  # stop my order; don't stop the deals
    if len(after) > 1 and after[0] in rules.reflexive and after[1] in rules.going:
        return _Clause.NOT  # arrêtez-vous au comptoir: a visit
    if any(t in rules.ours or t in rules.pointers for t in after):
        return _Clause.REQUEST  # stop texting, stop these messages, stop this
    if after and after[0] in rules.polite and (i == 0 or tokens[i - 1] in rules.polite):
        return _Clause.REQUEST  # stop please (whatever follows), please stop now
    if not after and i > 0 and tokens[i - 1] == "to":
        return _Clause.REQUEST  # I asked you to stop, I want them to stop
    if after and after[0] in rules.going:
        return _Clause.NOT  # stop by, stop in: a visit
    others = [t for j, t in enumerate(tokens) if j != i and t not in rules.polite]
    if not others and len(tokens) <= 5:
        return _Clause.BARE  # stop, stop it, make it stop
    if i == 0 and len(tokens) <= SHORT and tokens[i] not in rules.everyday:
        return _Clause.BARE  # STOP opening a short message: "stop join", "STOP never signed up"
    return _Clause.NOT if tokens[i] in rules.everyday else _Clause.UNCLEAR
