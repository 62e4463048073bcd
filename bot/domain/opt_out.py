"""Opt-outs said in a sentence: a clear request, a clear ordinary reply, or unclear (we ask).

Single compliance words (STOP, ALTO, ARRET...) are matched exactly before this runs. Here a message
is read clause by clause (split at . ! ? ; , and "but"), so "No. Stop." is a refusal and then a STOP,
and "Stop by Friday? We need to cancel the order" is neither. Each clause is read with the rules of
every language smsbot knows (a missed opt-out is the costly mistake) plus a program's own phrases:

- REQUEST: a request phrase ("unsubscribe", "remove me from the list", "no me escriban", "ne
  m'écrivez plus"), a stop verb with what we send ("stop texting me", "dejen de enviarme", "arrêtez
  les messages"), or a stop verb alone in a short clause ("stop please", "please stop", "basta ya").
- NONE: no trigger; a trigger negated just before it ("don't stop the deals"); a stop verb for going
  somewhere ("stop by", "stop in"); a clause about something not ours to stop (an order, a delivery,
  emails, a subscription box) that names none of our texts.
- UNCLEAR: a trigger we cannot place ("can you stop", "not interested", "too many"). The subscriber
  gets one short question ("Reply STOP to stop getting texts") and the marketer sees a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

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


def _phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(fold(t).split()) for t in texts)


@dataclass(frozen=True)
class Rules:
    """One language's reading of opt-out sentences (all words folded: no accents, no apostrophes)."""

    requests: tuple[tuple[str, ...], ...]  # a request wherever it stands, unless negated just before
    stops: frozenset[str]  # verbs that stop something: alone, or with one of `ours`, a request
    everyday: frozenset[str]  # stop words that are also common words (es "alto": tall): alone only
    ours: frozenset[str]  # what we send: texts, messages, alerts...
    polite: frozenset[str]  # words that may stand beside a stop verb in a short clause: please, now
    going: frozenset[str]  # after a stop verb: a visit, not a request ("stop by", "stop in")
    not_ours: frozenset[str]  # a clause about these stops something else (an order, emails)
    negations: frozenset[str]
    unclear: tuple[tuple[str, ...], ...]  # may mean it: ask
    wants: frozenset[str] = frozenset()  # "want": a negation, a want and what we send is a request
    delight: frozenset[str] = frozenset()  # "Stop! These are amazing": a bare stop beside these is asked
    # Built from the above: words without which a clause cannot be a request nor unclear, and the
    # request phrases by their first word (matching costs a lookup per word, not a scan per phrase).
    triggers: frozenset[str] = field(init=False)
    by_first: Mapping[str, tuple[tuple[str, ...], ...]] = field(init=False)

    def __post_init__(self) -> None:
        phrases = [*self.requests, *self.unclear]
        words = {w for phrase in phrases for w in phrase if w != "*"}
        first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.requests:
            first.setdefault(phrase[0], []).append(phrase)
        words = words - self.negations - self.polite - self.going  # too common to tell anything
        object.__setattr__(self, "triggers", frozenset(words | self.stops | self.wants))
        object.__setattr__(self, "by_first", {w: tuple(p) for w, p in first.items()})


ENGLISH = Rules(
    requests=_phrases(
        "unsubscribe",
        "unsub",
        "opt out",
        "optout",
        "opt me out",
        "stopall",
        "stop all",
        "remove me",
        "take me off",
        "delete me",
        "delete my number",
        "remove my number",
        "take my number off",
        "erase me",
        "do not text",
        "dont text",
        "do not message",
        "dont message",
        "do not contact",
        "dont contact",
        "do not send",
        "dont send",
        "no more texts",
        "no more text",
        "no more messages",
        "no more msgs",
        "leave me alone",
        "wrong number",
        "wrong person",
        "dont want these",
        "dont want your",
        "do not want these",
        "do not want your",
        "dont want any more",
        "dont want anymore",
        "dont want texts",
        "dont want messages",
        "not want these",
        "lose my number",
        "i want out",
        "want to unsubscribe",
        "want to stop",
        "want to opt out",
        "want to quit",
        "want to cancel",
        "quit texting",
        "quit messaging",
        "stop texting",
        "stop messaging",
        "stop sending",
        "stop contacting",
        "stop these",
        "stop the texts",
        "stop the messages",
        "cancel my subscription",
        "cancel subscription",
        "end my subscription",
        "off your list",
        "off your mailing list",
        "never text",
        "never message",
        "never contact",
        "stop bothering",
        "stop spamming",
        "quit sending",
        "end these",
        "cancel these",
        "get me off",
        "me off this",
        "me off your",
        "drop me",
        "no more",
        "no longer interested",
    ),
    stops=frozenset({"stop", "quit", "cancel", "end", "unsubscribe", "halt", "remove", "delete"}),
    everyday=frozenset({"end", "quit", "remove", "delete"}),
    ours=frozenset(
        {
            "texting",
            "text",
            "texts",
            "messaging",
            "message",
            "messages",
            "msgs",
            "sms",
            "sending",
            "contacting",
            "alerts",
            "alert",
            "these",
            "them",
            "this",
            "spam",
            "notifications",
        }
    ),
    polite=frozenset(
        {
            "please",
            "pls",
            "plz",
            "now",
            "it",
            "already",
            "asap",
            "thanks",
            "thank",
            "you",
            "thx",
            "me",
            "make",
            "just",
            "ok",
            "okay",
            "right",
            "immediately",
            "stop",
            "all",
            "acme",
            "ty",
            "sir",
            "maam",
            "dude",
        }
    ),
    going=frozenset({"by", "in", "into", "at", "over", "on", "off", "for", "through", "to", "the", "a"}),
    not_ours=frozenset(
        {
            "order",
            "orders",
            "delivery",
            "deliveries",
            "package",
            "shipment",
            "shipping",
            "box",
            "email",
            "emails",
            "newsletter",
            "mail",
            "payment",
            "card",
            "appointment",
            "reservation",
            "booking",
            "refund",
            "return",
            "account",
            "membership",
            "plan",
            "item",
            "items",
            "cart",
            "bus",
            "sale",
            "sales",
            "month",
            "week",
            "day",
            "season",
            "year",
            "line",
            "game",
            "show",
            "movie",
            "job",
            "stock",
            "size",
            "sizes",
            "color",
            "colour",
            "shoes",
            "shoe",
            "boots",
            "shirt",
            "dress",
            "jacket",
            "product",
            "gift",
            "wrap",
            "pickup",
            "address",
            "promo",
            "clearance",
            "discount",
            "coupon",
            "sign",
        }
    ),
    negations=frozenset(
        {
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
            "without",
        }
    ),
    unclear=_phrases(
        "not interested",
        "no interest",
        "enough",
        "too many",
        "so many texts",
        "why do you keep",
        "why are you texting",
        "who is this",
        "how do i stop",
        "how to stop",
        "how do i unsubscribe",
        "annoying",
        "stop it",
        "go away",
    ),
    wants=frozenset({"want", "wish", "need", "like"}),
    delight=frozenset(
        {
            "amazing",
            "love",
            "great",
            "awesome",
            "wow",
            "omg",
            "lol",
            "haha",
            "beautiful",
            "cute",
            "gorgeous",
            "perfect",
        }
    ),
)

SPANISH = Rules(
    requests=_phrases(
        "darme de baja",
        "dar de baja",
        "denme de baja",
        "de baja",
        "no me escriban",
        "no me escribas",
        "no me envien",
        "no me envies",
        "no me manden",
        "no me mandes",
        "no me contacten",
        "no quiero mas mensajes",
        "no quiero recibir",
        "ya no quiero",
        "no mas mensajes",
        "no mas textos",
        "borrame de",
        "borrenme de",
        "sacame de",
        "saquenme de",
        "eliminame de",
        "eliminenme de",
        "quitenme de",
        "quitame de",
        "borren mi numero",
        "eliminen mi numero",
        "dejen de enviarme",
        "dejen de escribirme",
        "dejen de mandarme",
        "deja de enviarme",
        "deja de escribirme",
        "dejen de molestar",
        "dejenme en paz",
        "dejame en paz",
        "numero equivocado",
        "cancelar suscripcion",
        "cancelar la suscripcion",
        "cancelar mi suscripcion",
        "desuscribir",
        "desuscribirme",
    ),
    stops=frozenset(
        {
            "alto",
            "parar",
            "para",
            "basta",
            "cancelar",
            "cancela",
            "baja",
            "detener",
            "paren",
            "deja",
            "dejen",
            "detenganse",
            "detente",
            "detengan",
        }
    ),
    everyday=frozenset({"alto", "para", "baja", "deja", "dejen", "basta"}),
    ours=frozenset({"mensajes", "mensaje", "textos", "sms", "envios", "notificaciones", "alertas", "esto"}),
    polite=frozenset(
        {"por", "favor", "porfavor", "porfa", "ya", "gracias", "todo", "alto", "basta", "ahora"}
    ),
    going=frozenset({"en", "a", "al", "de", "la", "el"}),
    not_ours=frozenset(
        {
            "pedido",
            "pedidos",
            "orden",
            "entrega",
            "envio",
            "paquete",
            "caja",
            "correo",
            "correos",
            "email",
            "pago",
            "tarjeta",
            "cita",
            "reserva",
            "cuenta",
            "precio",
            "tienda",
            "autobus",
            "camion",
        }
    ),
    negations=frozenset({"no", "nunca", "jamas", "sin", "tampoco"}),
    unclear=_phrases(
        "no me interesa", "no estoy interesado", "no estoy interesada", "quien es", "muchos mensajes"
    ),
    wants=frozenset({"quiero", "deseo", "queremos", "necesito"}),
    delight=frozenset({"increible", "encanta", "bonito", "bonita", "jaja", "wow", "precioso", "genial"}),
)

FRENCH = Rules(
    requests=_phrases(
        "desabonnez moi",
        "desabonner",
        "desabonne moi",
        "desinscrire",
        "desinscrivez moi",
        "ne mecrivez plus",
        "ne mecris plus",
        "ne menvoyez plus",
        "ne menvoie plus",
        "ne me contactez plus",
        "je ne veux plus",
        "plus de messages",
        "plus de textos",
        "plus de sms",
        "retirez moi de",
        "retire moi de",
        "enlevez moi de",
        "supprimez moi de",
        "supprimez mon numero",
        "effacez mon numero",
        "enlevez mon numero",
        "retirez mon numero",
        "ne me * plus",
        "ne m * plus",
        "veux plus",
        "souhaite plus",
        "veux pas recevoir",
        "ca suffit",
        "arretez de menvoyer",
        "arretez de mecrire",
        "arretez les messages",
        "arretez les textos",
        "laissez moi tranquille",
        "fichez moi la paix",
        "mauvais numero",
        "me desabonner",
        "annuler mon abonnement",
        "annuler labonnement",
    ),
    stops=frozenset({"arret", "arrete", "arretez", "stop", "annuler", "annulez", "cessez", "assez"}),
    everyday=frozenset({"arret", "assez", "arrete"}),
    ours=frozenset(
        {"messages", "message", "textos", "texto", "sms", "envois", "notifications", "alertes", "ca"}
    ),
    polite=frozenset(
        {"svp", "sil", "vous", "plait", "merci", "maintenant", "tout", "stop", "arret", "stp", "tous"}
    ),
    going=frozenset({"au", "a", "en", "chez", "par", "pres", "la", "le"}),
    not_ours=frozenset(
        {
            "commande",
            "commandes",
            "livraison",
            "colis",
            "paquet",
            "boite",
            "courriel",
            "courriels",
            "email",
            "paiement",
            "carte",
            "rendez",
            "reservation",
            "compte",
            "bus",
            "autobus",
            "magasin",
        }
    ),
    negations=frozenset({"ne", "pas", "jamais", "sans", "non"}),
    unclear=_phrases("pas interesse", "pas interessee", "qui est ce", "trop de messages"),
    wants=frozenset({"veux", "souhaite", "voulons", "desire"}),
    delight=frozenset(
        {"beau", "belle", "beaux", "magnifique", "genial", "super", "wow", "mdr", "adore", "trop"}
    ),
)

BUILT_IN: Mapping[str, Rules] = {"en": ENGLISH, "es": SPANISH, "fr": FRENCH}


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
    if any(t in rules.ours for t in after):
        return _Clause.REQUEST  # stop texting, stop these messages
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
