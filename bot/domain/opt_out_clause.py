"""One clause of a message, read with one language's rules: is it a request to stop our texts?

A trigger word counts when the clause is about what we send (texts, messages, these, the list, this
number) or the clause is the stop alone; about anything else (an order, a job, a friend, driving) it
is ordinary. A stop verb standing alone, or opening or closing a clause of other words, cannot be
told here: the message around it decides (`opt_out`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.opt_out_words import FILLER, Rules


class Kind(StrEnum):
    REQUEST = "request"
    ALONE = "alone"  # a stop verb said alone ("stop please"), or beside other words: the message decides
    NOT = "not"  # a trigger, and a reason it is no request; outranks another language's doubt
    UNCLEAR = "unclear"
    PASSING = "passing"  # a stop verb in passing, in a sentence about something else: ordinary
    SILENT = "silent"  # no trigger at all


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    why: str = ""  # which rule decided, for the marketer (`smsbot chat`)
    everyday: bool = False  # ALONE: the verb is also an everyday word (quit, end, cancel)
    rest: tuple[str, ...] = ()  # ALONE: the clause's other words
    wrong: bool = False  # REQUEST: "wrong number" (their own mistake if they say sorry)
    chosen: bool = False  # UNCLEAR: asked by choice (a question, a doubt), not for want of a rule
    guessed: bool = False  # NOT: guessed from a word's ending ("stop knowing"), not known


SILENT = Verdict(Kind.SILENT)
_SUBJECTS = frozenset({"you", "u", "ya", "yall"})
_ON_TO = frozenset({"to", "any", "more", "anything", "a", "the", "recibir", "recevoir"})
_PLACES = frozenset({"next", "bus", "last", "first", "one", "pit", "truck", "a", "the", "my", "your"})
_ATTACHED = ("me", "nos")
_THREATS = frozenset(
    {"report", "reporting", "fcc", "block", "sue", "lawyer", "spam", "denunciar", "signaler"}
)
_HOW = frozenset({"how", "como", "comment"})
_MY_PHONE = frozenset({"phone", "number", "cell", "line", "numero", "telefono", "celular"})
_CONDITION = frozenset({"if", "unless", "si"})
_HELD = frozenset({"you", "u", "yall", "ustedes", "vous"})  # "you have the wrong number": ours, sorry or not
_ENDING = 4  # words before a stop that ends its clause ("I never signed up for this, stop")
_MUST = frozenset({"need", "have", "got", "gotta"})
_ASKER = frozenset({"i", "je", "j", "yo", "puedo", "peux", "puis"})
_OPENED = ("did", "was", "were", "has", "had")  # a question even without its question mark
_REMOVING = frozenset(
    {"remove", "delete", "erase", "retirez", "supprimez", "enlevez", "effacez", "retirer", "supprimer"}
    | {"enlever", "quiten", "borren", "eliminen", "saquen", "eliminar", "borrar", "quitar"}
)  # never a visit: "retirez-le"
_SENDING = ("send", "text", "messag")  # "stop sending", "stop texting", "stop messaging" ...
_SENT = frozenset({"coupons", "coupon", "promo", "promos", "discounts", "sales", "sale", "codes", "deals"})


def read_clause(tokens: Sequence[str], question: bool, rules: Rules) -> Verdict:
    """`tokens`: the clause's folded words; `question`: it ended with a question mark."""
    if rules.triggers.isdisjoint(tokens):
        return SILENT  # most clauses: nothing here could be an opt-out
    other = _about_other(tokens, rules)
    asked = rules.asks.find(tokens)
    said = _phrase(tokens, asked[0], asked[1], question, other, rules) if asked is not None else None
    if said is not None and said.kind is Kind.REQUEST:
        return said
    stopping = [
        _stop_verb(tokens, i, question, other, rules) for i, t in enumerate(tokens) if t in rules.stops
    ]
    plain = next((v for v in stopping if v.kind is Kind.REQUEST), None)
    if said is not None:
        return plain or said  # "go away and stop texting me": the phrase is no request, the stop is
    refused = _refuses_ours(tokens, rules)
    if refused is not None and (other is None or refused.kind is Kind.NOT):
        return refused
    for kind in (Kind.REQUEST, Kind.ALONE, Kind.NOT, Kind.UNCLEAR, Kind.PASSING):
        for verdict in stopping:
            if verdict.kind is kind:
                return verdict
    return _unclear(tokens, other, rules)


def at(tokens: Sequence[str], phrase: Sequence[str]) -> int | None:
    """Where `phrase` stands in `tokens` ("*" stands for any one word), or None."""
    size = len(phrase)
    for i in range(len(tokens) - size + 1):
        if all(want in ("*", got) for want, got in zip(phrase, tokens[i : i + size], strict=True)):
            return i
    return None


def negated(tokens: Sequence[str], start: int, rules: Rules) -> bool:
    """A negation among the three words before, of this word: "don't stop", "never gonna stop";
    not "never signed up, stop" nor "not interested stop" (the negation is the complaint's), nor
    "if you don't stop" (a condition: stop, or else)."""
    for j in range(start - 1, max(-1, start - 4), -1):
        if tokens[j] in rules.complaint:
            return False
        if tokens[j] in rules.negations:
            return not _CONDITION.intersection(tokens[max(0, j - 3) : j])
    return False


def _about_other(tokens: Sequence[str], rules: Rules) -> str | None:
    """The thing the clause is about when it names something not ours and nothing we send."""
    if any(t in rules.ours for t in tokens):
        return None
    return next((t for t in tokens if t in rules.not_ours), None)


def _said(phrase: Sequence[str]) -> str:
    return "'" + " ".join(phrase) + "'"


def _question(tokens: Sequence[str], question: bool, rules: Rules) -> Verdict | None:
    """A question about what happened ("did I unsubscribe?") is no request; one asking how may
    want out ("how do I stop these?"): we ask. "Can you stop?" is a request, however it is put, and
    so are "is it possible to...?" and "¿me pueden quitar...?"."""
    opening = next((t for t in tokens if t not in FILLER or t in rules.settled), None)
    if opening is not None and _asked_politely(tokens, tokens.index(opening)):
        return None
    if opening in rules.asking and not (opening == "how" and "about" in tokens[:3]):
        return Verdict(Kind.UNCLEAR, f"a question: {opening} ...?", chosen=True)
    if opening in rules.settled and (question or opening in _OPENED):
        return Verdict(Kind.NOT, f"a question about what happened: {opening} ...?")
    return None


_REQUESTS_ASKED = frozenset(
    {("mind", "not")}
)  # "would you mind not texting me?": a request put as a question


_POLITE_OPENINGS = (
    ("is", "it", "possible"),
    ("me", "pueden"),
    ("me", "puede"),
    ("me", "podrian"),
    ("me", "podria"),
)


def _asked_politely(tokens: Sequence[str], i: int) -> bool:
    return any(tuple(tokens[i : i + len(ask)]) == ask for ask in _POLITE_OPENINGS)


def _phrase(
    tokens: Sequence[str],
    i: int,
    phrase: Sequence[str],
    question: bool,
    other: str | None,
    rules: Rules,
) -> Verdict:
    owns_negation = any(w in rules.negations or w in rules.partners for w in phrase)
    if not owns_negation and negated(tokens, i, rules):
        return Verdict(Kind.NOT, f"negated: {tokens[max(0, i - 3)]} ... {_said(phrase)}")
    ahead = 4 if tuple(phrase) in rules.wrong else 1  # "wrong number in my account": not ours
    end = i + len(phrase)
    following = tokens[end : end + ahead]
    kind_of_ours = end + 1 < len(tokens) and tokens[end + 1] in rules.ours  # "no more sale alerts"
    if other is not None and phrase[-1] in _WHO and other not in tokens[end:]:
        other = None  # "after this sale, remove me": the phrase says whom, the sale was before it
    other = other or (None if kind_of_ours else next((t for t in following if t in rules.not_ours), None))
    if other is not None:
        return Verdict(Kind.NOT, f"{_said(phrase)} about something else: {other}")
    if tuple(phrase) in rules.addressed or tuple(phrase) in rules.dismiss:
        found = _addressed(tokens, i + len(phrase), phrase, rules)
        if question and found.kind is Kind.REQUEST and tuple(phrase) not in _REQUESTS_ASKED:
            return Verdict(Kind.UNCLEAR, f"{found.why}, asked as a question", chosen=True)  # "no more texts?"
        return found
    if owns_negation and not rules.times.isdisjoint(tokens[end:]):  # "no me manden después de las 10"
        return Verdict(Kind.NOT, f"{_said(phrase)} with a time: when, not whether")
    asked = _question(tokens, question, rules)
    if asked is not None:
        return asked
    mistaken = tuple(phrase) in rules.wrong and _HELD.isdisjoint(tokens[:i])
    if mistaken and any(t in rules.sorry for t in tokens[:i]):
        return Verdict(Kind.NOT, f"{_said(phrase)}: their own mistake, sorry")
    left = _left(tokens[i + len(phrase) :], rules, taking=phrase[-1] in _TAKING)
    if left is not None:
        return Verdict(Kind.NOT, f"{_said(phrase)} from something else: {left}")
    return Verdict(Kind.REQUEST, f"request phrase {_said(phrase)}", wrong=mistaken)


def _left(after: Sequence[str], rules: Rules, taking: bool = False) -> str | None:
    """What a request phrase leaves when that is something else: "unsubscribe me from the emails",
    "opt out of sharing my data" (a doing not ours); not "opt out of the survey texts"."""
    while after and after[0] in _WHO:  # "unsubscribe [me] from", "remove [my number] from"
        after = after[1:]
    if taking and after and after[0] in _DETERMINERS:
        after = ["from", *after]  # "take me off [the email list]": what follows is what they leave
    if not after or after[0] not in rules.leaving:
        return None
    k = next((k for k, t in enumerate(after) if k and t not in rules.skip and t not in FILLER), None)
    if k is not None and after[k] in _CHANNELS:
        return after[k]  # "the app notifications", "email updates": another way of reaching them
    if k is None or (k + 1 < len(after) and after[k + 1] in rules.ours):
        return None  # nothing named, or a kind of what we send
    target = after[k]
    if target in rules.not_ours:
        return target
    doing = target.endswith(rules.doing) and len(target) > 4 and not target.endswith("thing")
    return target if doing and target not in rules.ours and target not in rules.pointers else None


def _addressed(tokens: Sequence[str], end: int, phrase: Sequence[str], rules: Rules) -> Verdict:
    """ "don't text", "no more": a request when what follows is us, or nothing."""
    after = [t for t in tokens[end:] if t != "of"]
    while len(after) > 1 and after[0] in rules.skip and after[0] not in rules.objects:
        after = after[1:]  # "plus jamais de messages"
    limited = _limited(after, phrase, rules)
    if limited is not None:
        return limited
    contacting = not rules.contact.isdisjoint(phrase)  # don't text [me], no more [texts]
    sending = len(after) > 1 and after[0] in rules.contact  # can you not [send me]
    if (after and contacting and after[0] in rules.objects) or (sending and after[1] in rules.objects):
        return Verdict(Kind.REQUEST, f"{_said(phrase)} about us")
    if all(t in FILLER for t in after):
        if tuple(phrase) in rules.dismiss and any(t not in FILLER for t in tokens[: end - len(phrase)]):
            return Verdict(Kind.PASSING, f"{_said(phrase)} said of someone else")  # "they can get lost"
        return Verdict(Kind.ALONE, _said(phrase))  # "No more!": the rest of the message decides
    if after[0] in rules.ours and after[1:2] and after[1] in rules.third:
        return Verdict(Kind.NOT, f"{_said(phrase)} about someone else: {after[1]}")  # rather not text him
    if after[0] in rules.ours or _pointing(after, rules):
        return Verdict(Kind.REQUEST, f"{_said(phrase)} about us")
    if after[1:2] and after[1] in rules.ours:
        return Verdict(Kind.REQUEST, f"{_said(phrase)} about us")  # "no future texts", "no sale alerts"
    later = range(1, min(len(after), 5))
    if after[0] in _ON_TO and any(after[j] in rules.ours or _pointing(after[j:], rules) for j in later):
        return Verdict(Kind.REQUEST, f"{_said(phrase)} about us")  # don't want to get these
    return Verdict(Kind.NOT, f"{_said(phrase)} about something else: {after[0]}")


def _limited(after: Sequence[str], phrase: Sequence[str], rules: Rules) -> Verdict | None:
    """What follows an addressed phrase that makes it no request: a time ("don't text me after
    9"), a stop ("don't want to stop"), another number or person of theirs ("my other number")."""
    if any(t in rules.times for t in after):
        return Verdict(Kind.NOT, f"{_said(phrase)} with a time: when, not whether")
    if after[:1] == ["to"] and after[1:2] and after[1] in rules.stops:
        return Verdict(Kind.NOT, f"{_said(phrase)} to {after[1]}: they want our texts")
    if after[:1] == ["my"] and after[1:2] and after[1] in _SOMEONE_ELSES:
        return Verdict(Kind.NOT, f"{_said(phrase)} about another: my {after[1]}")
    return None


def _pointing(after: Sequence[str], rules: Rules) -> bool:
    """ "these", "them" with nothing of their own after: our texts ("tired of them shoving" is not)."""
    if not after or after[0] not in rules.pointers:
        return False
    return all(t in FILLER or t in rules.ours for t in after[1:])


def _refuses_ours(tokens: Sequence[str], rules: Rules) -> Verdict | None:
    """A negation, then a want, then something we send: "no deseo recibir mensajes"."""
    for i, token in enumerate(tokens):
        if token in rules.wants and negated(tokens, i, rules):
            if any(t in rules.stops for t in tokens[i + 1 :]):
                return Verdict(Kind.NOT, f"'{token}' refused, of stopping: they want our texts")
            if any(t in rules.ours for t in tokens[i + 1 :]):
                return Verdict(Kind.REQUEST, f"'{token}' refused, of what we send")
            return None
    return None


def _object(tokens: Sequence[str], i: int, rules: Rules) -> tuple[int, str]:
    """What a stop verb at `i` stops, skipping "getting", "the", "de me": where, and its word."""
    j = i + 1
    while j < len(tokens) and tokens[j] in rules.skip:
        j += 1
    word = tokens[j] if j < len(tokens) else ""
    if word not in rules.ours and word.endswith(_ATTACHED) and word[:-2] in rules.ours:
        word = word[:-2]  # "molestarme", "enviarnos": the verb with its pronoun
    return j, word


def _stop_verb(tokens: Sequence[str], i: int, question: bool, other: str | None, rules: Rules) -> Verdict:
    """A stop verb at `i`: of something else, of what we send, or said without saying what."""
    return (
        _stopping_else(tokens, i, other, rules)
        or _stopping_ours(tokens, i, question, rules)
        or _stopping_unsaid(tokens, i, question, rules)
    )


def _stopping_else(tokens: Sequence[str], i: int, other: str | None, rules: Rules) -> Verdict | None:
    verb = tokens[i]
    if other is not None:
        return Verdict(Kind.NOT, f"'{verb}' about something else: {other}")
    if negated(tokens, i, rules):
        return Verdict(Kind.NOT, f"negated: {tokens[max(0, i - 3)]} ... '{verb}'")
    after = tokens[i + 1 : i + 3]
    if len(after) > 1 and after[0] in rules.reflexive and after[1] in rules.going:
        return Verdict(Kind.NOT, f"'{verb} {after[0]} {after[1]}': a visit")
    doing = _doing(tokens, i, rules)
    if doing is not None:
        return Verdict(Kind.NOT, f"'{verb} {doing}': stops something else", guessed=True)
    return None


def _doing(tokens: Sequence[str], i: int, rules: Rules) -> str | None:
    """Another doing a stop verb stops: "stop knowing", "paren de sacar", "arrêtez de sortir"."""
    j = i + 1
    if rules.doing_after:
        if j >= len(tokens) or tokens[j] not in rules.doing_after:
            return None
        j += 1
    while j < len(tokens) and tokens[j] in rules.skip:
        j += 1  # "stop getting", "arrêtez de me ..."
    word = tokens[j] if j < len(tokens) else ""
    stem = word[:-2] if word.endswith(_ATTACHED) else word
    if word in rules.ours or stem in rules.ours or len(word) <= 4 or not word.endswith(rules.doing):
        return None
    if word.endswith("thing") or _MY_PHONE.intersection(tokens[j + 1 : j + 5]):
        return None  # "cancel everything", "stop blowing up my phone": about us
    if not rules.ours.isdisjoint(tokens[j + 1 : j + 5]):
        return None  # "stop bugging me with texts", "stop adding me to your lists"
    return word


_TAKING = frozenset({"off", "out", "from", "of"})  # "take me off", "opt out": what follows is left
# "Don't text my other number", "don't text my husband": another number or person, not them.
_SOMEONE_ELSES = frozenset(
    {"other", "second", "old", "husband", "wife", "mom", "dad", "son", "daughter", "kid", "kids"}
)
_WHO = frozenset({"me", "us", "my", "this", "number", "moi", "nous"})
_CHANNELS = frozenset({"app", "email", "emails", "mail", "newsletter", "push", "correo", "courriel"})
_DETERMINERS = frozenset({"the", "your", "ur", "these", "those", "this", "all", "any"})


def _stopping_ours(tokens: Sequence[str], i: int, question: bool, rules: Rules) -> Verdict | None:
    verb = tokens[i]
    j, word = _object(tokens, i, rules)
    if word in _CHANNELS:
        return Verdict(Kind.NOT, f"'{verb} {word}': another way of reaching them")  # the app's, emails
    then = tokens[j + 1] if j + 1 < len(tokens) else None
    described = word not in rules.ours and j > 0 and tokens[j - 1] in _DETERMINERS  # "the VIP text list"
    if then in rules.ours and (word in rules.not_ours or word in _SENT or described):
        j, word = j + 1, then  # "stop the sale texts": what kind of texts
        then = tokens[j + 1] if j + 1 < len(tokens) else None
    if then in _SENT and word in rules.ours and word.startswith(_SENDING):
        return Verdict(Kind.REQUEST, f"'{verb} {word} {then}': what we send")  # "stop sending coupons"
    if word not in rules.ours and not _pointing(tokens[j:], rules):
        opens = all(t in FILLER for t in tokens[:i])
        left = _leaves(tokens[j:], rules) if opens else None
        if left is None:
            return None  # "stop these", "stop getting them please": a pointer is ours with nothing after
        return Verdict(Kind.REQUEST, f"'{verb}' from {left}: what we send")
    if then in rules.third and _MY_PHONE.isdisjoint(tokens[j + 2 : j + 5]):
        return Verdict(Kind.UNCLEAR, f"'{verb} {word} {then}': someone else, asked")
    kind = tokens[j + 2] if j + 2 < len(tokens) else None  # "stop sending discount texts": ours
    if then in rules.not_ours and kind not in rules.ours:
        return Verdict(Kind.NOT, f"'{verb} {word} {then}': something else")
    asked = _question(tokens, question, rules)
    return asked if asked is not None else Verdict(Kind.REQUEST, f"'{verb} {word}': what we send")


def _leaves(after: Sequence[str], rules: Rules) -> str | None:
    """ "remove my cell from your list": what a stop verb takes its object from, when that is ours."""
    for k, token in enumerate(after[:4]):
        if (token in rules.leaving and token != "of") or token == "off":  # "end of message" leaves nothing
            target = next((t for t in after[k + 1 :] if t not in rules.skip), None)
            return target if target in rules.ours else None
    return None


def _stopping_unsaid(tokens: Sequence[str], i: int, question: bool, rules: Rules) -> Verdict:
    verb = tokens[i]
    rest = tuple(t for t in tokens[i + 1 :] if t not in FILLER)
    before = tuple(t for t in tokens[:i] if t not in FILLER)
    visiting = verb not in _REMOVING and rules.ours.isdisjoint(rest)  # "stop the weekly texts": ours
    if rest and tokens[i + 1] in rules.going and tokens[i + 1] not in FILLER and visiting:
        return Verdict(Kind.NOT, f"'{verb} {tokens[i + 1]}': a visit")
    if not rest and _told(tokens, i, rules):
        return Verdict(Kind.REQUEST, f"'{verb}' said to us before")
    if before and (before[-1] in _PLACES or before[-1] == "non") and not rest:
        return Verdict(Kind.NOT, f"'{before[-1]} {verb}': a place")
    everyday = verb in rules.everyday
    if question and not rest and _ASKER.intersection(tokens[:i]):
        kind = Kind.NOT if everyday else Kind.UNCLEAR  # "can I cancel?" is about an order
        return Verdict(kind, f"'{verb}' asked about: can I {verb}?", chosen=True)
    asked = _question(tokens, question, rules) if before else None
    if asked is not None and asked.kind is Kind.UNCLEAR and tokens[0] not in _HOW:
        return Verdict(Kind.NOT, f"a question about something else: {tokens[0]} ...?")  # when does it end?
    if asked is not None:
        return asked  # "did my texts stop?", "how do I stop?"
    if not before or (not rest and len(before) <= _ENDING):
        return Verdict(Kind.ALONE, f"'{verb}'", everyday, before + rest)
    if not everyday and _SUBJECTS.intersection(tokens[:i]):
        if not _THREATS.isdisjoint(before):
            return Verdict(Kind.REQUEST, f"'{verb}' in a sentence to us, with a threat")
        return Verdict(Kind.UNCLEAR, f"'{verb}' in a sentence to us")
    return Verdict(Kind.PASSING, f"'{verb}' in a sentence about something else")


def _told(tokens: Sequence[str], i: int, rules: Rules) -> bool:
    """ "I said stop", "I asked you to stop", "I want them to stop", "make them stop"."""
    before = tokens[max(0, i - 3) : i]
    if before and before[-1] in rules.told:
        return True
    if len(before) > 1 and before[-1] == "to":
        mine = before[-2] in rules.pointers or before[-2] in rules.ours or before[-2] in _SUBJECTS
        return mine or (before[-2] in _MUST and not _SUBJECTS.isdisjoint(tokens[:i]))  # you need to stop
    return len(before) > 1 and before[-2] in ("make", "let") and before[-1] in rules.pointers | {"it"}


def _unclear(tokens: Sequence[str], other: str | None, rules: Rules) -> Verdict:
    """ "not interested", "too many", "enough": said alone or of our texts, they may mean it."""
    found = rules.doubts.find(tokens)
    if found is None:
        return SILENT
    start, phrase = found
    if other is not None:
        return Verdict(Kind.NOT, f"{_said(phrase)} about something else: {other}")
    if phrase[0] not in rules.negations and negated(tokens, start, rules):
        return Verdict(Kind.NOT, f"negated: {tokens[max(0, start - 3)]} ... {_said(phrase)}")
    after = [t for t in tokens[start + len(phrase) :] if t not in FILLER]
    before = [t for t in tokens[:start] if t not in FILLER]
    if any(t in rules.ours for t in after) or _pointing(after, rules):
        if phrase[-1] in ("interested", "interesse", "interessee", "interesa", "enough"):
            return Verdict(Kind.REQUEST, f"{_said(phrase)} in what we send")
        return Verdict(Kind.UNCLEAR, f"{_said(phrase)} of what we send: asked", chosen=True)
    if not after and not before:
        return Verdict(Kind.UNCLEAR, f"{_said(phrase)} said alone: asked", chosen=True)
    return Verdict(Kind.PASSING, f"{_said(phrase)} said of something else")
