"""The compliance vocabulary: opt-out, help and opt-in words, matched as the whole message.

Whole-message words follow Twilio's list and the FCC's 2024 revocation rule, in every language
smsbot knows and in every program. Opt-outs said in a sentence are read by `opt_out`.
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
    UNCLEAR_OPT_OUT = "unclear_opt_out"  # may be an opt-out said in a sentence: we ask
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
