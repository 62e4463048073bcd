"""What smsbot itself says: compliance replies that every program needs.

The texts are gettext messages (catalogs under locales/); the marketer's own copy lives in the
keyword YAML. Each reply carries what the CTIA asks of it: the program name, how often, that
message and data rates may apply, how to get help and how to opt out.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.model import ProgramInfo

Translate = Callable[[str], str]


def _identity(message: str) -> str:
    return message


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


HELP = N_(
    "{program}: {frequency}. Msg&data rates may apply. For help contact {help_contact}. "
    "Reply STOP to opt out."
)
OPTED_OUT = N_(
    "{brand}: You are unsubscribed from {program} and will get no more messages. Reply START to rejoin."
)
OPTED_IN = N_(
    "{brand}: Thanks for joining {program}! {frequency}. Msg&data rates may apply. "
    "Reply HELP for help, STOP to opt out."
)
REJOINED = N_(
    "{brand}: You are subscribed to {program} again. {frequency}. Msg&data rates may apply. "
    "Reply HELP for help, STOP to opt out."
)
CONFIRM_PROMPT = N_(
    "{brand}: Reply Y to confirm you want {program} texts. {frequency}. Msg&data rates may apply. "
    "Reply HELP for help, STOP to cancel."
)
ALREADY_SUBSCRIBED = N_(
    "{brand}: You are already subscribed to {program}. Reply HELP for help, STOP to opt out."
)
INTEREST_SAVED = N_(
    "{brand}: Got it, we saved that. You are already subscribed to {program}. Reply HELP for help, "
    "STOP to opt out."
)
NOT_SUBSCRIBED = N_("{brand}: Text {join} to join {program}. Msg&data rates may apply. Reply HELP for help.")
NOT_SUBSCRIBED_NO_KEYWORD = N_("{brand}: Reply HELP for help.")
PREFERENCE_SAVED = N_("{brand}: Got it, your preferences are saved. Reply HELP for help, STOP to opt out.")
LANGUAGE_SET = N_("{brand}: You will get our messages in English. Reply HELP for help, STOP to opt out.")

# A keyword's printed poster, in the keyword's language: the call to action and the short disclosure.
POSTER_CALL = N_("Text {keyword} to {number}")
POSTER_SCAN = N_("Scan to open your messages with the keyword filled in")
POSTER_AGREE = N_("By texting {keyword}, you agree to receive recurring marketing texts from {brand}.")
POSTER_RATES = N_("{frequency}. Msg & data rates may apply. Consent is not a condition of purchase.")
POSTER_HELP = N_("Reply HELP for help, STOP to cancel. {help_contact}")
CARD_LINK = N_("{brand}: Save our contact card so you know it's us: {url}")
ASK_OPT_OUT = N_("{brand}: Reply STOP to stop getting texts from {program}.")
FALLBACK = N_("{brand}: Sorry, we did not understand that. Reply HELP for help, STOP to opt out.")


def render(
    template: str,
    info: ProgramInfo,
    translate: Translate = _identity,
    language: str | None = None,
    **extra: str,
) -> str:
    """Translate, then fill in the program's own words (which the marketer may translate per language)."""
    return translate(template).format(**info.context(language), **extra)
