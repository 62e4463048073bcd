"""Which word did they text? Compliance words first, in every state; then the program's keywords."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.compliance import CONFIRM_WORDS, Intent
from bot.domain.model import Keyword, MatchMode, Program
from bot.domain.opt_out import NO_TRIGGER, Reading, read
from bot.domain.subscription import Status
from bot.domain.text import fold

_CARRIER_INTENTS = {"STOP": Intent.OPT_OUT, "HELP": Intent.HELP, "START": Intent.OPT_IN}


@dataclass(frozen=True)
class Match:
    intent: Intent
    word: str | None = None  # the compliance word or keyword name that matched
    language: str | None = None  # the language of a compliance word
    keyword: Keyword | None = None
    misspelt: bool = False  # the keyword was caught from a misspelling of it
    said: str | None = None  # how a sentence with a trigger word was read, and by which rule

    @property
    def source(self) -> str | None:
        """The consent record's source for an opt-out read in a sentence: the rule that read it."""
        return f"sentence: {self.said}"[:SOURCE] if self.said else None


OTHER = Match(Intent.OTHER)


SOURCE = 100  # characters: the consent record's source column
MAX_BODY = 1600  # characters: the longest body a carrier delivers (Twilio's limit)


def match(body: str, program: Program, status: Status, opt_out_type: str | None = None) -> Match:
    folded = fold(body[:MAX_BODY])  # the matcher never looks further than a carrier's message

    if opt_out_type in _CARRIER_INTENTS:
        # The carrier already classified it (Advanced Opt-Out) and acts on it; agree with it.
        known = program.compliance.get(folded)
        word = known.word if known else opt_out_type
        return Match(_CARRIER_INTENTS[opt_out_type], word, known.language if known else None)

    if status is Status.PENDING and folded in CONFIRM_WORDS:
        return Match(Intent.CONFIRM, folded.upper())

    known = program.compliance.get(folded)
    if known is not None:
        return Match(known.intent, known.word, known.language)

    tokens = folded.split()
    said = read(body[:MAX_BODY], program.opt_out_phrases, program.own_words, folded)
    reading = f"{said.reading.value}: {said.why}" if said.why != NO_TRIGGER else None
    if said.reading is Reading.REQUEST:
        return Match(Intent.OPT_OUT, "STOP", said.language, said=reading)

    keyword, misspelt = _keyword(folded, tokens, program)
    if keyword is not None:
        return Match(Intent.KEYWORD, keyword.name, keyword.language, keyword, misspelt, said=reading)
    if said.reading is Reading.UNCLEAR:
        return Match(Intent.UNCLEAR_OPT_OUT, None, said.language, said=reading)
    return Match(Intent.OTHER, said=reading) if reading else OTHER


def _keyword(folded: str, tokens: list[str], program: Program) -> tuple[Keyword | None, bool]:
    """The keyword texted, and whether it was caught from a misspelling."""
    keyword = program.index.get(folded)
    if keyword is not None or not tokens:
        return keyword, False
    first = tokens[0]
    if len(tokens) > 1:
        keyword = program.index.get(first)
        if keyword is not None:
            return (keyword if keyword.match is MatchMode.FIRST_WORD else None), False
    name = program.typos.match(first) if program.typos is not None else None
    if name is None:
        return None, False
    keyword = program.keywords[name]
    if len(tokens) > 1 and keyword.match is not MatchMode.FIRST_WORD:
        return None, False
    return keyword, True
