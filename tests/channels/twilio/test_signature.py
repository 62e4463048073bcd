"""X-Twilio-Signature checked as Twilio's own SDK signs: the same forms accepted, the same refused."""

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.twilio.signature import Signatures

TOKEN = "12345678901234567890123456789012"
FORMS = [
    {},
    {"Body": "JOIN", "From": "+14155550123", "To": "+15005550006", "MessageSid": "SM1"},
    {"Body": "¡Hola! 😀 naïve café", "From": "+34612345678", "NumMedia": "0", "Empty": ""},
    {"b": "2", "B": "1", "a&b": "x=y", "Body": "100% off + free"},  # order by name, byte-wise
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "url", ["https://sms.example.com/twilio/sms", "https://sms.example.com:8443/twilio/sms?x=1&y=%20"]
)
def test_what_twilio_signs_is_accepted(url: str, form: dict[str, str]) -> None:
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    assert Signatures(TOKEN).valid(url, form, signature)


@pytest.mark.parametrize("form", FORMS[1:])
def test_a_changed_value_url_or_token_is_refused(form: dict[str, str]) -> None:
    url = "https://sms.example.com/twilio/sms"
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    changed = {**form, "Body": form["Body"] + "!"}
    assert not Signatures(TOKEN).valid(url, changed, signature)
    assert not Signatures(TOKEN).valid(url + "?again=1", form, signature)
    assert not Signatures("another token").valid(url, form, signature)
    assert not Signatures(TOKEN).valid(url, form, "")
    assert not Signatures(TOKEN).valid(url, form, "ü" + signature[1:])


def test_signed_with_the_default_port_written_out_is_accepted_without_it() -> None:
    form = FORMS[1]
    signature = RequestValidator(TOKEN).compute_signature("https://sms.example.com:443/twilio/sms", form)
    assert Signatures(TOKEN).valid("https://sms.example.com/twilio/sms", form, signature)
