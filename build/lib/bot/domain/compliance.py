"""The compliance vocabulary: opt-out, help and opt-in words, and the opt-out sentence rule.

Whole-message words follow Twilio's list and the FCC's 2024 revocation rule. Opt-outs said in a
sentence are honoured too (the FCC asks for "any reasonable manner"); the rule is deliberately
lopsided: a missed opt-out is a legal problem, a wrong one costs one subscriber.

The sentence rule, on the folded words of the message (lowercase, punctuation dropped):

1. A request phrase anywhere, at any length: "unsubscribe", "optout", "opt out", "opt me out",
   "stopall", "remove me", "take me off", "do not text me", "dont text me" (also message/contact),
   "no more texts/messages", or STOP/QUIT/CANCEL/END followed, with at most one word between, by
   texting, texts, messages, messaging, sending, contacting, alerts, sms or subscription
   ("stop sending me texts", "cancel my subscription").
2. The word STOP in a short message (at most 8 words) when it is the first word ("stop please",
   "STOP. never signed up"), follows please/pls/plz/just/it ("please stop", "make it stop"),
   or is followed by please/pls/plz/it/me.
3. Neither counts when one of the two words before it is a negation (dont, do not, never, not,
   no, cant, cannot, wont, ...): "don't stop the deals", "I can't stop buying shoes".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.text import fold


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    HELP = "help"
    OPT_IN = "opt_in"  # START, UNSTOP, YES: opt in again
    CONFIRM = "confirm"  # Y / YES while a double opt-in waits
    KEYWORD = "keyword"
    OTHER = "other"


@dataclass(frozen=True)
class ComplianceWord:
    intent: Intent
    word: str  # as the program lists it, e.g. "STOP"
    language: str


ENGLISH: Mapping[Intent, tuple[str, ...]] = {
    Intent.OPT_OUT: (
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
        "OPT-OUT",
    ),
    Intent.HELP: ("HELP", "INFO"),
    Intent.OPT_IN: ("START", "UNSTOP", "YES"),
}
SPANISH: Mapping[Intent, tuple[str, ...]] = {
    Intent.OPT_OUT: ("ALTO", "PARAR", "CANCELAR", "BAJA"),
    Intent.HELP: ("AYUDA",),
    Intent.OPT_IN: ("INICIO",),
}
FRENCH: Mapping[Intent, tuple[str, ...]] = {
    Intent.OPT_OUT: ("ARRET", "ARRÊT", "ARRETE"),
    Intent.HELP: ("AIDE",),
}
# Opt-out and help words of every language smsbot knows are honoured in every program: an
# opt-out missed because a program "doesn't speak Spanish" is the costly mistake.
BUILT_IN: Mapping[str, Mapping[Intent, tuple[str, ...]]] = {"en": ENGLISH, "es": SPANISH, "fr": FRENCH}
CONFIRM_WORDS = frozenset({"y", "yes", "si", "oui"})  # "Reply Y", "Responde SI", "Répondez OUI"

NEGATIONS = frozenset(
    [
        "dont",
        "not",
        "never",
        "no",
        "cant",
        "cannot",
        "wont",
        "shouldnt",
        "didnt",
        "doesnt",
        "isnt",
        "wouldnt",
        "couldnt",
        "arent",
        "aint",
        "nor",
    ]
)
_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "unsubscribe",
        "unsub",
        "optout",
        "opt out",
        "opt me out",
        "stopall",
        "remove me",
        "take me off",
        "do not text me",
        "dont text me",
        "do not message me",
        "dont message me",
        "do not contact me",
        "dont contact me",
        "no more texts",
        "no more text",
        "no more messages",
    )
)
_STOP_VERBS = frozenset({"stop", "quit", "cancel", "end"})
_STOP_OBJECTS = frozenset(
    [
        "texting",
        "text",
        "texts",
        "messaging",
        "message",
        "messages",
        "sending",
        "contacting",
        "alerts",
        "sms",
        "subscription",
    ]
)
_BEFORE_STOP = frozenset({"please", "pls", "plz", "just", "it"})
_AFTER_STOP = frozenset({"please", "pls", "plz", "it", "me"})
SHORT_MESSAGE_WORDS = 8


def build_table(
    extra: Mapping[str, Mapping[Intent, tuple[str, ...]]] | None = None,
) -> dict[str, ComplianceWord]:
    """Folded word -> meaning, for the built-in languages plus any words a program adds."""
    table: dict[str, ComplianceWord] = {}
    for vocabularies in (BUILT_IN, extra or {}):
        for language, vocabulary in vocabularies.items():
            for intent, listed in vocabulary.items():
                for word in listed:
                    table.setdefault(fold(word), ComplianceWord(intent, word.upper(), language))
    return table


DEFAULT_TABLE: Mapping[str, ComplianceWord] = build_table()


def _negated(tokens: list[str], start: int) -> bool:
    before = tokens[max(0, start - 2) : start]
    return any(t in NEGATIONS for t in before)


def is_opt_out_sentence(tokens: list[str]) -> bool:
    """Apply the sentence rule above to a message's folded words."""
    n = len(tokens)
    for i in range(n):
        for phrase in _PHRASES:
            if tokens[i : i + len(phrase)] == list(phrase) and not _negated(tokens, i):
                return True
        if tokens[i] in _STOP_VERBS and not _negated(tokens, i):
            following = tokens[i + 1 : i + 3]
            if any(t in _STOP_OBJECTS for t in following):
                return True
        if tokens[i] == "stop" and n <= SHORT_MESSAGE_WORDS and not _negated(tokens, i):
            if i == 0 or tokens[i - 1] in _BEFORE_STOP:
                return True
            if i + 1 < n and tokens[i + 1] in _AFTER_STOP:
                return True
    return False
