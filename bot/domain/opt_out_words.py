"""The words opt-outs are said with, per language (all folded: no accents, no apostrophes).

Read by `opt_out`: request phrases, stop verbs and what they stop, and the words around them that
tell a request from an ordinary reply. Add a language here; a program adds its own phrases in YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.domain.text import fold


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
    pointers: frozenset[str] = frozenset()  # "these", "ça": our texts only right after a stop verb
    reflexive: frozenset[str] = frozenset()  # "arrêtez-vous au comptoir": a visit, like "stop by"
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
        "take this number off",
        "remove this number",
        "delete this number",
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
    pointers=frozenset({"these", "them", "this", "that"}),
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
        "saquen mi numero",
        "quiten mi numero",
        "saca mi numero",
        "quita mi numero",
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
    ours=frozenset({"mensajes", "mensaje", "textos", "sms", "envios", "notificaciones", "alertas"}),
    pointers=frozenset({"esto", "eso"}),
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
        "etre retire",
        "etre retiree",
        "etre desabonne",
        "etre desinscrit",
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
    ours=frozenset({"messages", "message", "textos", "texto", "sms", "envois", "notifications", "alertes"}),
    pointers=frozenset({"ca", "cela"}),
    reflexive=frozenset({"vous", "toi", "nous"}),
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
