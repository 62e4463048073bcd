"""Opt-outs said in a sentence: a clear request, a clear ordinary reply, or unclear (we ask).

Single compliance words (STOP, ALTO, ARRET...) are matched exactly before this runs. Here a message
is read clause by clause (split at . ! ? ; , and "but"), each with the rules of every language smsbot
knows plus a program's own phrases (`opt_out_clause` reads one clause):

- REQUEST: a request phrase ("unsubscribe", "remove me from the list", "no me escriban"), a stop verb
  with what we send ("stop texting me", "dejen de enviarme", "arrêtez les messages"), "don't text me",
  "no more of these"; a stop verb said alone ("No. Stop.", "U can stop now", "Just quit.") or beside
  a complaint about being texted ("STOP. never signed up").
- NONE: no trigger; a message that wants our texts ("Did I unsubscribe? I want texts"); a trigger
  negated ("don't stop the deals"), about something else (an order, emails, a job, a friend who had
  to cancel, "stop knowing me", "don't text and drive", "no more than two?"), a question about what
  happened; a stop said beside delight ("Omg stop, I love these") or an everyday verb beside other
  words ("Cancel that, I found it").
- UNCLEAR: what we cannot place ("not interested", "too many texts", "how do I stop?", "Stop, I
  already bought it"). The subscriber gets one short question and the marketer sees a record.

`Read.why` says which rule decided, in words: `smsbot chat` shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.opt_out_clause import Kind, Verdict, at, negated, read_clause
from bot.domain.opt_out_model import NEGATIONS, shipped
from bot.domain.opt_out_words import (
    BUILT_IN,
    FILLER,
    MISSPELT,
    SPELT_AS_THEY_ARE,
    PhraseBook,
    Rules,
    phrases_of,
)
from bot.domain.text import fold
from bot.domain.typos import TypoIndex

_CLAUSES = re.compile(r"([.!?;,:\n¡¿]+|\s(?:but|pero|mais)\s)", re.IGNORECASE)
MAX_CLAUSES = 40  # a carrier's message has few; a paragraph is read no further
_SHORT = 12  # words beside a stop said alone: a complaint among more is chatter, not a request
_STOPS = frozenset().union(*(rules.stops for rules in BUILT_IN.values()))
_TRIGGERS = frozenset().union(*(rules.triggers for rules in BUILT_IN.values()))
_WANTS = frozenset().union(*(rules.wants for rules in BUILT_IN.values()))
# Each "we want your texts" phrase, and the first language that says it.
_KEEPING = {p: lang for lang, rules in reversed(list(BUILT_IN.items())) for p in rules.keep}
_KEEPS = PhraseBook(_KEEPING)
_MISTAKEN = frozenset({"mistake", "accident", "accidente", "accidentally", "error", "erreur"})
_MISTAKES = frozenset(p for p in _KEEPING if _MISTAKEN.intersection(p))
# What was done by mistake, when they want to be back: left us ("unsubscribed", "texted stop", "baja").
_LEFT = _STOPS | {"unsubscribed", "unsubbed", "opted", "baja", "desuscrito", "desuscrita"}
_LEFT |= {"desabonne", "desabonnee", "desinscrit", "desinscrite"}
_PHRASES = PhraseBook(phrase for rules in BUILT_IN.values() for phrase in phrases_of(rules))
_COMPLAINT = frozenset().union(*(rules.complaint for rules in BUILT_IN.values()))
_DELIGHT = frozenset().union(*(rules.delight for rules in BUILT_IN.values()))
_OURS = frozenset().union(*(rules.ours for rules in BUILT_IN.values()))
_IDENTITY = frozenset({"number", "numero", "phone", "line", "cell", "owner"})  # "new number, remove it"
# Where they are, not what we did: beside "stop" a complaint ("Stop, I'm at work"), beside an
# everyday word nothing ("Boooo you always work. Just quit.").
_SITUATION = frozenset({"again", "still", "class", "meeting", "work", "driving", "sleeping", "otra", "vez"})
_SITUATION |= frozenset({"trabajo", "encore", "travail", "late", "night", "sleep", "bed", "early"})
_NUMBER = frozenset({"number", "numero", "#"})
_THIRD = frozenset({"she", "shes", "he", "hes", "her", "him", "his", "ella", "elle", "il"})  # of another
_OTHER_NUMBERS = frozenset(
    {"order", "tracking", "apartment", "apt", "account", "card", "confirmation", "reference", "model"}
    | {"item", "serial", "room", "unit", "house", "suite", "invoice", "receipt", "member", "pedido"}
    | {"commande"}
)
_YOU = frozenset({"you", "u", "yall", "they"})
_NOT_SO = frozenset({"dont", "not", "never", "nunca", "pas", "jamais"})  # "I don't buy here"
_SORRY = frozenset().union(*(rules.sorry for rules in BUILT_IN.values()))
_SMILES = frozenset("😂🤣😍🥰😅😆😁😊🙈💸🤑💕💖😘😜😉🤩")  # beside a stop, pleasure as much as "lol"
_STOP_SIGNS = re.compile("[🛑⛔🚫]")  # a stop sign, "no entry", "prohibited": said alone, "stop"
# "STOPPPP", "pleaseeee": a letter said three times or more. Folded text holds words and single
# spaces, so any character thrice is a letter or digit: "." is quicker to try than "\w".
_REPEATS = re.compile(r"(.)\1\1+")
_SHORTENED = re.compile(r"\b(do|did|does|is|are|was|were|would|could|should|have|has|had|will|can) not\b")
_WRONG_HASH = re.compile(r"wrong\s*#", re.IGNORECASE)  # "wrong #": wrong number
_TYPOS = TypoIndex({word: word for word in MISSPELT})
_MISSPELT_START = frozenset(word[:2] for word in MISSPELT)
_SPELT = frozenset((*MISSPELT, *SPELT_AS_THEY_ARE))


def _swapped(words: str) -> dict[str, str]:
    """Each word with two letters next to each other swapped ("sotp", "remvoe"), and the word."""
    found: dict[str, str] = {}
    for word in words.split():
        for i in range(len(word) - 1):
            found.setdefault(word[:i] + word[i + 1] + word[i] + word[i + 2 :], word)
    return {typo: word for typo, word in found.items() if typo != word and typo not in _WORDS_ALREADY}


_WORDS_ALREADY = frozenset({"parra"})  # a surname and a vine, not "parar"


# What people mean to type when they stop us; none of these with two letters swapped is a word.
_SPELLINGS = _swapped(
    "stop quit cancel unsubscribe unsub remove delete text texts texting message messages messaging "
    "parar paren cancelar baja mensajes arret arretez annuler annulez supprimez retirez desabonner"
)
# French stop verbs after an elision that folding joined to them: "d'arrêter" reads "darreter".
_SPELLINGS |= {f"{e}{verb}": verb for verb in BUILT_IN["fr"].stops for e in ("d", "m", "j", "l", "qu")}
_SPELLINGS |= {"rmv": "remove", "rmve": "remove", "outta": "out", "frm": "from"}  # said short
# Words run together or split apart: "nomore texts", "un subscribe", "un-subscribe".
_JOINED = re.compile(r"\b(?:nomore|un subscrib)")
_UNJOINED = {"nomore": "no more", "un subscrib": "unsubscrib"}


NO_TRIGGER = "no trigger word"
NO_REQUEST = "no request"
# The model's say (`opt_out_model`). Chosen on our sets with each set left out of the model's training
# in turn (bench/train_opt_out_model.py --cross), and on personal messages nobody sent a brand (the
# SMS Spam Collection's, docs/figures.md). Of 2,666 requests, 2,169 trigger-word replies and 4,948
# ordinary replies so measured:
UNLIKE = 0.05  # a rule's request the model puts this low is asked: 19 trigger-word replies the rules
# unsubscribed came this low, and 9 requests
SURE = 0.9  # where a rule asked for want of a better one, or guessed a stop verb's object: honoured
DOUBT = 0.6  # where no rule read a request: asked (0.5% of ordinary replies came this high)
ALONE = 0.98  # where no rule read one at all: honoured (48 requests and no reply came this high; at
# 0.9, 2 ordinary and 2 trigger-word replies, and 20 personal messages of 4,827 did)
BRIEF = 12  # words: 99 in 100 of our requests are this short; past it the model only asks
MODEL, _ = shipped()


class Reading(StrEnum):
    REQUEST = "request"
    UNCLEAR = "unclear"
    NONE = "none"


@dataclass(frozen=True)
class Read:
    reading: Reading
    language: str | None = None  # whose rule read it: the confirmation is said in that language
    why: str = NO_TRIGGER  # which rule decided, in words a marketer reads
    chosen: bool = False  # UNCLEAR: a rule asks by choice (a question, "too many texts"), not for want of one
    guessed: bool = False  # NONE: a rule guessed it ordinary from a word's ending ("stop pinging me")


_NOTHING = Read(Reading.NONE)  # no trigger word: what most messages are read as


@dataclass(frozen=True)
class _Clause:
    tokens: list[str]
    question: bool


def read(
    body: str,
    extra: Mapping[str, Iterable[tuple[str, ...]]] | None = None,
    own: frozenset[str] = frozenset(),
    folded: str | None = None,
) -> Read:
    """How to take a message that is not a single compliance word. `extra`: a program's own request
    phrases per language, folded; `own`: its keywords' and brand's words ("stop acme" stops us);
    `folded`: the body already folded, if the caller has it."""
    body, words = _words(body, folded)
    for language, phrases in (extra or {}).items():
        for phrase in phrases:
            if at(words, phrase) is not None:
                return Read(Reading.REQUEST, language, f"the program's phrase '{' '.join(phrase)}'")
    rules_may = _may_be(words)
    if not rules_may and len(words) > BRIEF:
        return _NOTHING  # no rule could read one, and the model learnt from short requests
    smiling, question = _smiling(body), "?" in body
    likeness = MODEL.probability(words, question, smiling)
    if not rules_may and likeness < DOUBT:
        return _NOTHING  # most messages: nothing here could be an opt-out
    clauses = _clauses(body)
    keeps = _keeps(clauses)
    if keeps is not None:
        return keeps  # never a request, whatever the model says
    said = _decide(clauses, smiling, own) if rules_may else _NOTHING
    return _weigh(said, likeness, words, question, clauses)


def example(body: str) -> tuple[list[str], bool, bool]:
    """A message as the model sees it: its words as the rules read them, a question, a smile."""
    body, words = _words(body, None)
    return words, "?" in body, _smiling(body)


def _smiling(body: str) -> bool:
    return not body.isascii() and not _SMILES.isdisjoint(body)


def _words(body: str, folded: str | None) -> tuple[str, list[str]]:
    signed = not body.isascii() and _STOP_SIGNS.search(body) is not None
    if folded is None or signed or "#" in body:
        body = _WRONG_HASH.sub("wrong number", _STOP_SIGNS.sub(" stop ", body) if signed else body)
        folded = fold(body)
    return body, _normal(folded)


def _weigh(
    said: Read, likeness: float, words: Sequence[str], question: bool, clauses: Sequence[_Clause]
) -> Read:
    """The rules and the model together:
    - a rule's request stays one, unless the model finds the message and each of its clauses unlike
      any request: then it is asked ("Don't text my husband about the gift");
    - a question a rule chose to ask ("how do I stop?", "too many texts") stays asked;
    - where a rule asked for want of a better one, or guessed what a stop verb stops ("stop pinging
      me"), a short message the model is sure of, speaking of no one else, is honoured;
    - where a rule read the trigger as ordinary (negated, about an order...), the model's sureness
      only asks;
    - where no rule read a request, a short message naming what we send is honoured when the model
      is surer still, unless it asks something, speaks of someone else or wants our texts; it is
      asked when the model doubts."""
    if said.reading is Reading.REQUEST:
        if likeness >= UNLIKE or any(_like(c) for c in clauses):
            return said
        return Read(Reading.UNCLEAR, said.language, f"{said.why}, unlike a request to the model: asked")
    brief = len(words) <= BRIEF  # the model learnt from short requests
    sure = likeness >= SURE and brief and _THIRD.isdisjoint(words)  # of them, not of someone else
    if said.reading is Reading.UNCLEAR:
        if said.chosen or not sure:
            return said  # a rule chose to ask ("too many texts?"): the model does not answer for them
        why = said.why.removesuffix(": asked")
        return Read(Reading.REQUEST, said.language, f"{why}; a request to the model")
    if said.why not in (NO_TRIGGER, NO_REQUEST):  # a rule read the trigger as ordinary: ask, not act
        if not sure:
            return said
        if said.guessed:
            return Read(Reading.REQUEST, said.language, f"{said.why}, but a request to the model")
        return Read(Reading.UNCLEAR, said.language, f"{said.why}, but a request to the model: asked")
    asking = question or (len(words) > 1 and words[0] in _ASKING and words[1] in _YOU)  # "do you ..."
    alone = likeness >= ALONE and brief and not asking and _names_us(words)
    if alone and sure and not _wanting(words):
        return Read(Reading.REQUEST, said.language, f"a request to the model ({likeness:.0%})")
    if likeness >= DOUBT:
        return Read(Reading.UNCLEAR, said.language, f"perhaps a request to the model ({likeness:.0%}): asked")
    return said


def _names_us(words: Sequence[str]) -> bool:
    """What we send, these texts, or reaching them ("contacted", "escriban", "écrire")."""
    return not (_OURS.isdisjoint(words) and _POINTING.isdisjoint(words)) or any(
        w.startswith(_REACHING) for w in words
    )


_ASKING = frozenset({"do", "does", "did", "dont", "didnt", "is", "are", "have", "will", "would", "can"})
_POINTING = frozenset({"these", "them", "esto", "estos", "ca"})
_REACHING = ("contact", "escrib", "manden", "envien", "ecri", "envoy")
_GONE = frozenset({"removed", "deleted", "erased", "off", "out", "gone", "unsubscribed", "cancelled"})


def _like(clause: _Clause) -> bool:
    """A clause the model finds like a request, though the whole message is not."""
    return MODEL.probability(clause.tokens, clause.question, False) >= DOUBT


def _wanting(words: Sequence[str]) -> bool:
    """A want of what we send, not negated nor gone ("I want to be subscribed", not "I want my
    number removed"): the model, which learnt "I don't want texts" far more often, may read it
    backwards; it is asked, never honoured alone."""
    for i, word in enumerate(words):
        wanted = word in _WANTS and NEGATIONS.isdisjoint(words[max(0, i - 3) : i])
        if wanted and not _OURS.isdisjoint(words[i + 1 : i + 6]) and _GONE.isdisjoint(words[i + 1 :]):
            return True
    return False


def _may_be(words: Sequence[str]) -> bool:
    """A stop verb, a want of something we send, or a phrase of some language's rules."""
    if not _STOPS.isdisjoint(words):
        return True
    if not _WANTS.isdisjoint(words) and not _OURS.isdisjoint(words):
        return True
    return _PHRASES.find(words) is not None


def _normal(folded: str) -> list[str]:
    """Letters said over and over said once ("stopppp"), "do not" as "dont", a request word with two
    letters swapped ("sotp") or a long one misspelt once, spelt."""
    if _REPEATS.search(folded):
        folded = _REPEATS.sub(r"\1", folded)
    if " not" in folded:
        folded = _SHORTENED.sub(_shorten, folded)
    if "nomore" in folded or "un subscrib" in folded:
        folded = _JOINED.sub(lambda found: _UNJOINED[found.group(0)], folded)
    words = folded.split()
    misspelt = any(_may_be_misspelt(w) for w in words if len(w) > 8)  # as typed, before respelling
    if not _SPELLINGS.keys().isdisjoint(words):
        words = [_SPELLINGS.get(w, w) for w in words]
    if not misspelt:
        return words
    return [_spelt(w) for w in words]


def _may_be_misspelt(word: str) -> bool:
    """A word of nine letters or more opening as a request word does ("desuscribirme"), or
    "?subscribe" mistyped."""
    return word[:2] in _MISSPELT_START or (len(word) == 11 and word.endswith("subscribe"))


def _shorten(found: re.Match[str]) -> str:
    """ "do not" -> "dont", "will not" -> "wont", "can not" -> "cant": one spelling for the rules."""
    verb = found.group(1)
    return {"will": "wont", "can": "cant"}.get(verb, verb + "nt")


def _spelt(word: str) -> str:
    if len(word) == 11 and word.endswith("subscribe") and word != "resubscribe":
        return "unsubscribe"  # its first letters mistyped ("ubsubscribe", "insubscribe")
    if word[:2] not in _MISSPELT_START or word in _SPELT:
        return word
    return _TYPOS.match(word) or word


def _clauses(body: str) -> list[_Clause]:
    pieces = _CLAUSES.split(body)
    found = []
    for i in range(0, min(len(pieces), 2 * MAX_CLAUSES), 2):
        tokens = _normal(fold(pieces[i]))
        if tokens:
            end = pieces[i + 1] if i + 1 < len(pieces) else ""
            found.append(_Clause(tokens, "?" in end))
    return found


def _keeps(clauses: Sequence[_Clause]) -> Read | None:
    """A message that wants our texts is never a request: "Did I unsubscribe? I want texts"."""
    for index, clause in enumerate(clauses):
        found = _KEEPS.find(clause.tokens)
        if found is None:
            continue
        start, phrase = found
        language = _KEEPING[phrase]
        rules = BUILT_IN[language]
        if phrase[0] in rules.negations and _wanted_before(clauses, index, start, rules):
            continue  # "I only want emails, not texts": not these; "remove the emails, not texts" keeps
        if phrase in _MISTAKES:
            if _LEFT.isdisjoint(clause.tokens):
                continue  # "I signed up by accident" wants out; "I unsubscribed by accident" wants in
        elif not rules.stops.isdisjoint(clause.tokens[start + len(phrase) :][:3]):
            continue  # "I want these texts to stop" wants them gone
        if start > 0 and clause.tokens[start - 1] in _YOU:
            continue  # "you keep texting me" is a complaint, "keep texting me!" a wish
        if phrase[0] in rules.negations or not negated(clause.tokens, start, rules):
            return Read(Reading.NONE, language, f"wants our texts: '{' '.join(phrase)}'")
    return None


def _wanted_before(clauses: Sequence[_Clause], index: int, start: int, rules: Rules) -> bool:
    """A want, not negated, in the clause before a "not texts" or in its own words before it."""
    before = [*(clauses[index - 1].tokens if index else []), *clauses[index].tokens[:start]]
    return any(w in rules.wants and not negated(before, i, rules) for i, w in enumerate(before))


def _decide(clauses: Sequence[_Clause], smiling: bool, own: frozenset[str]) -> Read:
    alone: tuple[str, int, Verdict] | None = None
    unclear: Read | None = None
    reason: Read | None = None
    for index, clause in enumerate(clauses):
        if _TRIGGERS.isdisjoint(clause.tokens):
            continue  # silent in every language
        verdicts = {lang: read_clause(clause.tokens, clause.question, r) for lang, r in BUILT_IN.items()}
        for language, verdict in verdicts.items():
            if verdict.kind is Kind.REQUEST:
                if verdict.wrong and clauses[0].tokens[0] in _SORRY:
                    return Read(Reading.NONE, language, f"{verdict.why}: their own mistake, sorry")
                return Read(Reading.REQUEST, language, verdict.why)
        found = {verdict.kind: (language, verdict) for language, verdict in reversed(verdicts.items())}
        if Kind.NOT in found:
            language, verdict = found[Kind.NOT]
            reason = reason or Read(Reading.NONE, language, verdict.why, guessed=verdict.guessed)
            continue
        if Kind.ALONE in found and (alone is None or (alone[2].rest and not found[Kind.ALONE][1].rest)):
            alone = (found[Kind.ALONE][0], index, found[Kind.ALONE][1])  # said alone outranks with words
        if Kind.UNCLEAR in found and unclear is None:
            language, verdict = found[Kind.UNCLEAR]
            unclear = Read(Reading.UNCLEAR, language, verdict.why, verdict.chosen)
        if Kind.PASSING in found and reason is None:
            reason = Read(Reading.NONE, found[Kind.PASSING][0], found[Kind.PASSING][1].why)
    if alone is not None:
        return _stop_alone(*alone, clauses, smiling, own)
    return unclear or reason or Read(Reading.NONE, None, NO_REQUEST)


def _other_number(words: Sequence[str], j: int) -> bool:
    """ "my apartment number", "order number": a number, but not theirs we text."""
    return words[j] in _NUMBER and j > 0 and words[j - 1] in _OTHER_NUMBERS


def _stop_alone(
    language: str,
    index: int,
    verdict: Verdict,
    clauses: Sequence[_Clause],
    smiling: bool,
    own: frozenset[str],
) -> Read:
    """A stop verb said alone, or beside other words: the rest of the message decides."""
    rest = [t for j, c in enumerate(clauses) if j != index for t in c.tokens if t not in FILLER]
    rest = [t for t in (*rest, *verdict.rest) if t not in own]
    complaints = (
        [t for j, t in enumerate(rest) if t in _COMPLAINT and not _other_number(rest, j)]
        if len(rest) <= _SHORT
        else []
    )
    complaint = complaints[0] if complaints else None
    strong = next((t for t in complaints if t in _IDENTITY or (t not in _OURS and t not in _SITUATION)), None)
    delight = next(
        (t for j, t in enumerate(rest) if t in _DELIGHT and not _NOT_SO.intersection(rest[:j])), None
    )
    delight = delight or ("a smile" if smiling else None)
    if not rest and delight is None:
        return Read(Reading.REQUEST, language, f"{verdict.why} said alone")
    if verdict.everyday and strong is None:
        return Read(Reading.NONE, language, f"{verdict.why}: an everyday word beside other words")
    if complaint is not None and delight is None:
        return Read(Reading.REQUEST, language, f"{verdict.why} beside a complaint: {complaint}")
    if delight is not None:
        return Read(Reading.NONE, language, f"{verdict.why} beside pleasure: {delight}")
    return Read(Reading.UNCLEAR, language, f"{verdict.why} beside other words: asked")
