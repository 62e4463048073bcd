"""Phone numbers as carriers send them: their E.164 form, their country, and a form for logs."""

import pytest

from bot.domain.inbound import BadInbound
from bot.domain.phones import mask_phone, region_of, to_e164


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+14155550123", "+14155550123"),
        (" +1 (415) 555-0123 ", "+14155550123"),
        ("tel:+44.7700.900123", "+447700900123"),
    ],
)
def test_a_number_in_international_form_is_written_in_e164(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("4155550123", "international"),
        ("+1 415 CALL NOW", "E.164 form"),
        ("+1415", "E.164 form"),
        ("+99912345678", "not a phone number"),  # no country has the code 999
        ("+1415555012345", "not a possible"),
    ],
)
def test_a_number_that_is_not_one_is_refused_with_why(raw: str, why: str) -> None:
    with pytest.raises(BadInbound, match=why):
        to_e164(raw)


@pytest.mark.parametrize(
    ("phone", "region"),
    [
        ("+14155550123", "US"),
        ("+14165550123", "CA"),  # the same country code, another country
        ("+447700900123", "GB"),  # Ofcom's drama range: outside the numbers in use, still British
        ("+34612345678", "ES"),
        ("+80012345678", None),  # the world's freephone numbers belong to no country
        ("not a number", None),
    ],
)
def test_a_number_is_placed_in_its_country(phone: str, region: str | None) -> None:
    assert region_of(phone) == region


def test_a_number_read_from_a_webhook_is_placed_the_same_as_one_placed_first() -> None:
    assert region_of(to_e164("+1 416 555 0199")) == "CA"
    assert region_of("+16135550199") == "CA"
    assert to_e164("+16135550199") == "+16135550199"


def test_a_log_line_shows_the_country_code_and_last_two_digits_only() -> None:
    assert mask_phone("+14155550123") == "+14*******23"
    assert mask_phone("+1234") == "***"
