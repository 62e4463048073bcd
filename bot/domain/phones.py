"""Phone numbers: E.164 form, the country a number belongs to, and a form fit for a log line."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from bot.domain.inbound import BadInbound

# E.164: a +, a country code that does not start with 0, at most 15 digits in all. Short codes and
# alphanumeric sender ids are not subscribers.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_SEPARATORS = str.maketrans("", "", " -.()")  # as people write numbers: "+1 (415) 555-0123"


@lru_cache(maxsize=65536)  # subscribers text again and again; parsing a number is not free
def to_e164(raw: str) -> str:
    """Normalise a phone number given in international form; raise BadInbound otherwise.

    Only a + and digits count (spaces, dashes, dots and brackets between them are dropped):
    letters are not turned into keypad digits, and nothing else is quietly removed.
    """
    text = raw.strip()
    if text.startswith("tel:"):
        text = text[4:]
    if not text.startswith("+"):
        raise BadInbound("From must be a phone number in international (E.164) form, starting with +")
    text = text.translate(_SEPARATORS)
    if not _E164.fullmatch(text):
        raise BadInbound("From is not a phone number in E.164 form: a + and 7 to 15 digits")
    number = _parsed(text)
    if number is None:
        raise BadInbound("From is not a phone number")
    if not phonenumbers.is_possible_number(number):
        raise BadInbound("From is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def region_of(phone: str) -> str | None:
    """The ISO country of a number ("US", "CA", "GB"), or None when it cannot be placed."""
    number = _parsed(phone)
    if number is None:
        return None
    # A number outside the ranges in use (a test range, a new block) still has its country code:
    # the code's main country ("+44 7700 900…", Ofcom's drama range, is GB).
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code or 0
    )
    # "001" for the world's non-geographic numbers, "ZZ" for unknown: no country
    return region if region and region.isalpha() and region != "ZZ" else None


@lru_cache(maxsize=4096)  # a number read from a webhook is placed in its country moments later
def _parsed(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None


def mask_phone(phone: str) -> str:
    """A phone number fit for a log line: country code and last two digits only."""
    if len(phone) <= 6:
        return "***"
    return f"{phone[:3]}{'*' * (len(phone) - 5)}{phone[-2:]}"
