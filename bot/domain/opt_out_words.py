"""The words opt-outs are said with, per language (all folded: no accents, no apostrophes).

Read by `opt_out_clause` and `opt_out`: request phrases, stop verbs and what they stop, and the words
around them that tell a request from an ordinary reply. Add a language here; a program adds its own
phrases in YAML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.text import fold


def _phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    """Folded phrases; "*" stands for any one word."""
    return tuple(tuple(w if w == "*" else fold(w) for w in t.split()) for t in texts)


class PhraseBook:
    """Phrases found by their first two words: a look-up or two per word of a clause, not a scan per
    phrase ("*" stands for any one word, never first)."""

    def __init__(self, phrases: Iterable[tuple[str, ...]]) -> None:
        single: set[str] = set()
        by_two: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        wild: dict[str, list[tuple[str, ...]]] = {}  # second word "*": by the first only
        for phrase in phrases:
            if len(phrase) == 1:
                single.add(phrase[0])
            elif phrase[1] == "*":
                wild.setdefault(phrase[0], []).append(phrase)
            else:
                by_two.setdefault((phrase[0], phrase[1]), []).append(phrase)
        self.single = frozenset(single)
        self.by_two = {pair: tuple(found) for pair, found in by_two.items()}
        self.wild = {word: tuple(found) for word, found in wild.items()}
        self.firsts = frozenset({*single, *(a for a, _ in by_two), *wild})

    def find(self, tokens: Sequence[str]) -> tuple[int, tuple[str, ...]] | None:
        """The first phrase standing in `tokens`, and where."""
        firsts = self.firsts
        for i, token in enumerate(tokens):
            if token not in firsts:
                continue
            if token in self.single:
                return i, (token,)
            pair = (token, tokens[i + 1]) if i + 1 < len(tokens) else None
            for phrase in (*self.by_two.get(pair, ()), *self.wild.get(token, ())) if pair else ():
                if _stands(phrase, tokens, i):
                    return i, phrase
        return None


def _stands(phrase: tuple[str, ...], tokens: Sequence[str], i: int) -> bool:
    size = len(phrase)
    if len(tokens) - i < size:
        return False
    if "*" not in phrase:
        return tuple(tokens[i : i + size]) == phrase
    return all(w in ("*", t) for w, t in zip(phrase, tokens[i : i + size], strict=True))


def _words(text: str) -> frozenset[str]:
    return frozenset(fold(text).split())


@dataclass(frozen=True)
class Rules:
    """One language's reading of opt-out sentences."""

    requests: tuple[tuple[str, ...], ...]  # a request wherever it stands ("*": any one word)
    addressed: tuple[tuple[str, ...], ...]  # a request only when what follows is us ("don't text" me)
    stops: frozenset[str]  # verbs that stop something: with what we send, a request
    everyday: frozenset[str]  # stop verbs that are also everyday words: a request only said alone
    ours: frozenset[str]  # what we send and the sender: texts, messages, alerts, list...
    objects: frozenset[str]  # after an addressed phrase, words that make it about us: me, again...
    pointers: frozenset[str]  # right after a stop verb, our texts: these, them
    filler: frozenset[str]  # words that say nothing of what is stopped: please, ok, now, you
    going: frozenset[str]  # after a stop verb: a visit ("stop by", "stop in")
    not_ours: frozenset[str]  # a clause about these stops something else (an order, emails)
    negations: frozenset[str]
    unclear: tuple[tuple[str, ...], ...]  # may mean it when said alone: ask
    wants: frozenset[str]  # "want": a negation, a want and what we send is a request
    keep: tuple[tuple[str, ...], ...]  # they want our texts: never a request ("I want texts")
    complaint: frozenset[str]  # beside a stop said alone, a complaint about being texted
    delight: frozenset[str]  # beside a stop said alone, pleasure ("Stop! These are amazing")
    settled: frozenset[str]  # a question opening with these asks what happened: "did I unsubscribe?"
    asking: frozenset[str]  # a question opening with these may want out: "how do I stop?" (asked)
    times: frozenset[str]  # "don't text me after 9pm": when, not whether
    told: frozenset[str]  # "I said stop", "I asked you to stop": a stop said before
    skip: frozenset[str]  # between a stop verb and what it stops: "stop [getting] [the] texts"
    doing: tuple[str, ...]  # endings of a verb a stop verb may stop: "stop knowing", "paren de sacar"
    doing_after: frozenset[str]  # the word between: "de" in "paren de sacar"; none in English
    third: frozenset[str]  # after "stop sending": to someone else ("stop sending her mine")
    sorry: frozenset[str]  # "sorry, wrong number": their own mistake, not ours
    contact: frozenset[str]  # "don't text" [me]: addressed phrases that take a person, not our texts
    wrong: tuple[tuple[str, ...], ...]  # the request phrases that say we have the wrong number
    leaving: frozenset[str]  # "from": after a request phrase, what they leave ("remove me from emails")
    partners: frozenset[str] = frozenset()  # "ne ... plus": a phrase holding one carries its negation
    dismiss: tuple[tuple[str, ...], ...] = ()  # "go away": a request said to us, not of someone else
    reflexive: frozenset[str] = frozenset()  # "arrêtez-vous au comptoir": a visit, like "stop by"
    # Built from the above: the words without which a message cannot be an opt-out, and the
    # phrases by their first word (matching costs a lookup per word, not a scan per phrase).
    triggers: frozenset[str] = field(init=False)
    asks: PhraseBook = field(init=False)  # requests and addressed phrases
    doubts: PhraseBook = field(init=False)  # the unclear phrases

    def __post_init__(self) -> None:
        object.__setattr__(self, "asks", PhraseBook((*self.requests, *self.addressed, *self.dismiss)))
        object.__setattr__(self, "doubts", PhraseBook(self.unclear))
        common = self.negations | self.filler | self.going | self.objects | {"*"}
        keys = {max((w for w in p if w not in common), key=len, default=p[0]) for p in phrases_of(self)}
        object.__setattr__(self, "triggers", frozenset(keys | self.stops | self.wants))


def phrases_of(rules: Rules) -> tuple[tuple[str, ...], ...]:
    """Every phrase a clause may be read by: each holds at least one of the rules' triggers."""
    return (*rules.requests, *rules.addressed, *rules.dismiss, *rules.unclear)


ENGLISH = Rules(
    requests=_phrases(
        "unsubscribe",
        "unsub",
        "opt out",
        "optout",
        "opt me out",
        "opting out",
        "turn these off",
        "turn them off",
        "turn it off",
        "count me out",
        "leave me out",
        "take me out",
        "no want",
        "not interest",
        "incorrect number",
        "wrong num",
        "wrong no",
        "request removal",
        "belongs to someone else",
        "not my phone anymore",
        "number is no longer",
        "sign me out",
        "sign me off",
        "same for texts",  # "I unsubscribed from the email, please do the same for texts"
        "same for the texts",
        "same for sms",
        "off the list",
        "off the text list",
        "off the texting list",
        "off the sms list",
        "off your text list",
        "leave * list",  # "leave" alone is a person's ("I don't want you to leave"): a list, a club
        "leave * * list",
        "leaving * list",
        "leave * text",
        "leave * * text",
        "leaving * text",
        "leaving * * text",
        "leave * texts",
        "leave * club",
        "leaving * club",
        "exclude me",
        "exclude my number",
        "exclude this number",
        "knock it off",
        "cut it out",
        "give it a rest",
        "dont hit me up",
        "stop hitting me up",
        "revoke my consent",
        "revoke consent",
        "withdraw my consent",
        "withdraw consent",
        "consent withdrawn",
        "consent revoked",
        "dont consent",
        "no longer consent",
        "never consented",
        "unwanted",
        "not wanted",
        "arent wanted",
        "isnt wanted",
        "never wanted",
        "removal from",
        "opt * out",
        "opt * * out",
        "is spam",
        "are spam",
        "as spam",
        "no permission",
        "without permission",
        "without my permission",
        "without my consent",
        "didnt give you permission",
        "never gave you permission",
        "never gave you my number",
        "didnt give you my number",
        "dont want to hear from",
        "no longer want to hear from",
        "never want to hear from",
        "didnt consent",
        "never consented",
        "unsubbing",
        "unsubscribing",
        "cease and desist",
        "forget me",
        "forget my number",
        "number is not",
        "number isnt",
        "not my number",
        "stopall",
        "remove me",
        "take me off",
        "delete me",
        "erase me",
        "delete my number",
        "erase my number",
        "remove my number",
        "take my number off",
        "take this number off",
        "remove this number",
        "delete this number",
        "erase this number",
        "leave me alone",
        "wrong number",
        "wrong person",
        "wrong guy",
        "wrong girl",
        "blocking this number",
        "blocking you",
        "lose my number",
        "i want out",
        "i want off",
        "want to unsubscribe",
        "want to opt out",
        "cancel my subscription",
        "cancel the subscription",
        "cancel subscription",
        "end my subscription",
        "off your list",
        "off this list",
        "off your mailing list",
        "get me off",
        "drop me from",
        "no longer interested",
        "no longer want",
        "be removed",
        "get removed",
        "get unsubscribed",
        "get taken off",
        "rm me",
        "pls stp",  # "stp" alone is French's "please" ("oui stp")
        "plz stp",
        "stp texting",
        "stp txting",
        "stp sending",
        "be taken off",
        "be unsubscribed",
    ),
    addressed=_phrases(
        "turn off",  # "turn off these texts"; "turn off autoship" is an order
        "shut off",
        "switch off",
        "dont text",
        "dont txt",
        "dont msg",
        "dont ever text",
        "dont ever message",
        "dont ever contact",
        "dont message",
        "dont contact",
        "dont send",
        "never text",
        "never message",
        "never contact",
        "can you not",
        "can u not",
        "prefer not",
        "rather not",
        "dont add me",
        "can you guys not",
        "can yall not",
        "could you not",
        "never asked for",
        "didnt ask for",
        "never signed up",
        "didnt sign up",
        "never opted in",
        "didnt opt in",
        "never subscribed",
        "spam",
        "done with",
        "sick of",
        "tired of",
        "no more",
        "no texts",
        "no texting",
        "no messages",
        "no sms",
        "no msgs",
        "no communication",
        "no communications",
        "no txts",
        "mind not",
        "no future",
        "no further",
        "dont want",
        "not want",
    ),
    stops=_words(
        "stop stopp halt quit cancel cease end unsubscribe remove remov delete erase discontinue "
        "terminate disable deactivate mute silence withdraw unenroll unregister deregister block refrain "
        "cut kill"
    ),
    everyday=_words(
        "end quit remove remov delete cancel erase terminate disable deactivate mute silence withdraw block "
        "cut kill"
    ),
    ours=_words(
        "texting text texts txt txts txting messaging message messages msg msgs msging sms sending "
        "contacting alerts alert spam spamming notifications promotions promotional ads advertising "
        "marketing bothering harassing list subscription number info information data details contact "
        "contacted promos communication communications service notifications numbr updates offers "
        "program campaign notifs deals lists subscribed enrolled texted bugging pestering hounding club"
    ),
    objects=_words(
        "me us this number again anymore any anything ever please these them texts messages my future "
        "further more"
    ),
    pointers=_words("these them those all this everything"),
    filler=_words(
        "please pls plz now it already asap thanks thank you u thx ty me make just ok okay right "
        "immediately stop all sir maam dude no yes yeah nope yep hey hi hello guys yall can could "
        "alright kindly "
        "would will i im am said so and seriously really its thats that this is anymore again ever times "
        "twice nah ffs tf wtf damn bs hell fucking freaking effing frickin omfg bro man dude ugh there "
        "guys"
    ),
    going=_words("by in into at over on off for through the a"),
    not_ours=_words(
        "order orders delivery deliveries package shipment shipping box email emails emailing "
        "newsletter mail catalog payment card appointment reservation booking refund return "
        "account membership plan item items cart bus sale sales month week day season year line "
        "game show movie job stock size sizes color colour shoes shoe boots shirt dress jacket "
        "product gift wrap pickup address promo clearance discount coupon coupons app "
        "than per auto renew renewing fitting smoking survey surveys questionnaire poll waitlist wishlist "
        "registry"
    ),
    negations=_words(
        "dont not never cant cannot wont shouldnt didnt doesnt isnt wouldnt couldnt arent aint nor "
        "without longer"
    ),
    unclear=_phrases(
        "not interested",
        "no interest",
        "enough",
        "too many",
        "so many texts",
        "why do you keep",
        "why are you texting",
        "how do i stop",
        "how to stop",
        "how do i unsubscribe",
        "annoying",
        "new number",
        "new phone",
        "business line",
        "landline",
        "not my phone",
    ),
    wants=_words("want wish need"),
    keep=_phrases(
        "want texts",
        "want the texts",
        "want your texts",
        "want these texts",
        "want to keep",
        "still want",
        "keep texting",
        "keep sending",
        "keep them coming",
        "add me back",
        "sign me back",
        "back on the list",
        "get back on",
        "texts are fine",
        "prefer the texts",
        "prefer texts",
        "prefer the text messages",
        "prefer text messages",
        "keep texts",
        "keep the texts",
        "keep my texts",
        "i want them",
        "want them back",
        "not the texts",
        "not texts",
        "not the sms",
        "texts are ok",
        "text this one",
        "send to mine",
        "dont mind the texts",
        "still subscribed",
        "still signed up",
        "stay subscribed",
        "stay on the list",
        "remain subscribed",
        "by mistake",
        "by accident",
        "accidentally",
    ),
    complaint=_words(
        "signed sign spam spamming annoying harassing harassment unsolicited permission consent "
        "illegal report reporting fcc sue lawyer interested tired sick hate bothering texts junk "
        "messages texting number phone begging enough asked nonsense block blocking know owner line "
        "cell heard again still class meeting work driving sleeping idk live unsubscribed late night sleep"
    ),
    delight=_words(
        "amazing love loving great awesome wow omg lol lmao haha hahaha beautiful cute gorgeous "
        "perfect obsessed insane crazy fire good buy bought afford broke wallet spend money deal "
        "price prices"
    ),
    settled=_words("did does do is was were are has have had"),
    asking=_words("how why what when where which"),
    times=_words(
        "after before until till at during between early late weekends weekdays mornings nights "
        "sunday saturday monday tuesday wednesday thursday friday sundays saturdays mondays tuesdays weekend "
        "wednesdays thursdays fridays"
    ),
    told=_words("said say saying told telling tell asked asking texted typed replied"),
    skip=_words(
        "getting receiving get receive the your ur all any my this me us from off it with for damn fucking "
        "freaking future further"
    ),
    doing=("ing", "in"),
    doing_after=frozenset(),
    third=_words("her him his my them"),
    sorry=_words("sorry sry oops"),
    contact=_words("text txt message msg contact send"),
    dismiss=_phrases("go away", "fuck off", "f off", "piss off", "buzz off", "get lost"),
    wrong=_phrases("wrong number", "wrong person"),
    leaving=_words("from of"),
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
        "borrenme",
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
        "no me vuelvan a",
        "no me sigan",
        "me quiero salir",
        "quiero salirme",
        "numero ya no es",
        "prefiero no",
        "no me agreguen",
        "no me molesten",
        "no autorice",
        "nunca me suscribi",
        "no me suscribi",
        "vayanse",
        "no envien",
        "retiro mi consentimiento",
        "dejaran de",
        "dejen de enviar",
        "no mensajes",
        "numero incorrecto",
        "no quiero estar",
        "salir de",
        "eliminenme",
        "quitenme",
        "saquenme",
        "no vuelvan a",
        "salir de la lista",
        "dejar de recibir",
        "dejen de enviarme",
        "dejen de escribirme",
        "dejen de mandarme",
        "deja de enviarme",
        "deja de escribirme",
        "dejen de molestar",
        "dejenme en paz",
        "dejame en paz",
        "numero equivocado",
        "equivocado de numero",
        "equivocaron de numero",
        "cancelar suscripcion",
        "cancelar la suscripcion",
        "cancelar mi suscripcion",
        "desuscribir",
        "desuscribirme",
    ),
    addressed=_phrases("no mas", "ya no mas"),
    stops=_words(
        "alto parar para basta cancelar cancela baja detener paren deja deje dejen detenganse detente "
        "detengan quiten borren eliminen saquen cancelen suspendan desactiven suspender terminar bloquear "
        "eliminar borrar quitar quitan borran eliminan parenle pareles parele parale"
    ),
    everyday=_words("alto para baja deja deje dejen basta cancelar cancela terminar bloquear quitar"),
    ours=_words(
        "mensajes mensaje textos sms envios notificaciones alertas lista numero enviar enviarme "
        "textear suscripcion spam promociones ofertas publicidad anuncios servicio datos listas "
        "escribir escribirme mandar mandarme molestar texts text txts msgs"
    ),
    objects=_words("mensajes textos sms por favor esto"),
    pointers=_words(""),
    filler=_words("por favor porfavor porfa ya gracias todo alto basta ahora no si oye hola esto eso"),
    going=_words("en a al la el por"),
    not_ours=_words(
        "pedido pedidos orden entrega envio paquete caja correo correos email pago tarjeta cita "
        "reserva cuenta precio tienda autobus camion"
    ),
    negations=_words("no nunca jamas sin tampoco"),
    unclear=_phrases("no me interesa", "no estoy interesado", "no estoy interesada", "muchos mensajes"),
    wants=_words("quiero deseo queremos necesito"),
    keep=_phrases(
        "quiero los mensajes",
        "quiero seguir",
        "quiero recibir",
        "sigan enviando",
        "no dejen de",
        "no paren",
        "sigo suscrita",
        "sigo suscrito",
        "sigo inscrita",
        "sigo inscrito",
        "mensajes estan bien",
        "prefiero los mensajes",
        "los mensajes si",
        "por error",
        "por accidente",
        "sin querer",
    ),
    complaint=_words(
        "inscribi suscribi spam molestan molesto molesta acoso ilegal denuncia interesa harto harta "
        "cansado cansada mensajes numero basta dije pedi conozco otra vez trabajo vivo"
    ),
    delight=_words(
        "increible encanta encantan bonito bonita bonitos jaja jajaja wow precioso genial dinero "
        "precio precios"
    ),
    settled=_words("me se"),
    asking=_words("como cuando por que donde cual"),
    times=_words("despues antes hasta durante temprano tarde fines"),
    told=_words("dije dijimos pedi"),
    skip=_words("de recibir me los las sus tus mas mi mis su la el ya este esta"),
    doing=("ar", "er", "ir"),
    doing_after=_words("de"),
    third=_words("a"),
    sorry=_words("perdon perdona disculpa ups"),
    contact=_words(""),
    wrong=_phrases("numero equivocado", "equivocado de numero", "equivocaron de numero"),
    leaving=_words("de del"),
)

FRENCH = Rules(
    requests=_phrases(
        "desabonnez moi",
        "desabonner",
        "desabonne moi",
        "desinscrire",
        "desinscrivez moi",
        "desabonnement",
        "desinscription",
        "trompe de numero",
        "trompes de numero",
        "ne mecrivez plus",
        "ne mecris plus",
        "ne menvoyez plus",
        "ne menvoie plus",
        "ne me contactez plus",
        "je ne veux plus",
        "plus de messages",
        "plus de textos",
        "plus de sms",
        "retirez moi",
        "etre retire",
        "etre retiree",
        "etre desabonne",
        "etre desinscrit",
        "retire moi de",
        "enlevez moi",
        "supprimez moi",
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
        "arretez les sms",
        "laissez moi tranquille",
        "fichez moi la paix",
        "mauvais numero",
        "numero incorrect",
        "sortez moi",
        "desinscris",
        "numero nest plus",
        "foutez moi la paix",
        "pas autorise",
        "jamais inscrit",
        "jamais inscrite",
        "retire mon consentement",
        "cesser de",
        "pas de sms",
        "pas de messages",
        "pas de promotions",
        "me desabonner",
        "me desabonne",
        "annuler mon abonnement",
        "annuler labonnement",
    ),
    addressed=_phrases(
        "ne plus", "plus jamais", "plus de", "prefere ne pas", "prefere ne plus", "ne majoutez pas"
    ),
    stops=_words(
        "arret arrete arretez arreter stop stoppez annuler annulez cessez assez retirez supprimez enlevez "
        "effacez desactivez supprimer retirer enlever resilier resiliez bloquer bloquez"
    ),
    everyday=_words("arret assez arrete annuler annulez retirez supprimez enlevez effacez bloquer bloquez"),
    ours=_words(
        "messages message textos texto sms envois notifications alertes liste numero menvoyer "
        "mecrire envoyer ecrire texter textez abonnement contacter spam promotions offres publicite pub "
        "service promos donnees listes"
    ),
    objects=_words("messages textos sms"),
    pointers=_words(""),
    reflexive=_words("vous toi nous"),
    filler=_words(
        "svp sil vous plait merci maintenant tout stop arret stp tous non oui bon ok bonjour ca cela"
    ),
    going=_words("au a en chez par pres la le"),
    not_ours=_words(
        "commande commandes livraison colis paquet boite courriel courriels email emails paiement "
        "carte rendez reservation compte bus autobus magasin"
    ),
    negations=_words("ne pas jamais sans"),
    unclear=_phrases("pas interesse", "pas interessee", "trop de messages"),
    wants=_words("veux souhaite voulons desire"),
    keep=_phrases(
        "veux les sms",
        "veux les messages",
        "continuez",
        "narretez pas",
        "narretez jamais",
        "toujours inscrit",
        "toujours inscrite",
        "toujours abonne",
        "toujours abonnee",
        "sms ca va",
        "prefere les sms",
        "pas les sms",
        "par erreur",
        "par accident",
    ),
    complaint=_words(
        "inscrit inscrite abonne spam harcelement illegal marre saoule interesse messages numero "
        "demande rien assez suffit connais encore travail sais habite deja desabonne desabonnee"
    ),
    delight=_words("beau belle beaux magnifique genial super wow mdr adore trop bien joli jolie prix"),
    settled=_words("on"),
    asking=_words("comment pourquoi quand ou quel quelle"),
    times=_words("apres avant jusqua pendant tot tard weekend"),
    told=_words("dit demande"),
    skip=_words("de d me m recevoir les vos ces des mon ma mes votre la le l ce cet cette"),
    doing=("er", "ir", "re"),
    doing_after=_words("de d"),
    third=_words("a"),
    sorry=_words("pardon desole desolee oups"),
    contact=_words(""),
    wrong=_phrases("mauvais numero", "trompe de numero", "trompes de numero"),
    leaving=_words("de des du"),
    partners=_words("plus pas jamais rien"),
)

BUILT_IN: Mapping[str, Rules] = {"en": ENGLISH, "es": SPANISH, "fr": FRENCH}
FILLER: frozenset[str] = frozenset().union(*(rules.filler for rules in BUILT_IN.values()))

# Words one letter from a request word that are words of their own, never corrected: "je me suis
# désabonné par accident" tells what happened, it asks nothing.
SPELT_AS_THEY_ARE = ("desabonne", "desabonnee", "desinscrit", "desinscrite", "desuscrito", "desuscrita")

# Long request words a one-letter typo of which is still the word ("unsuscribe", "desabonement").
MISSPELT = (
    "unsubscribe",
    "unsubscribed",
    "desuscribirme",
    "desuscribir",
    "desabonner",
    "desinscrire",
    "desabonnement",
    "desinscription",
)
