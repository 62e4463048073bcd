"""TwiML answers, and the one status-callback URL both the answer and the REST sender use."""

import xml.etree.ElementTree as ET

from bot.channels.base import Reply
from bot.channels.twilio.twiml import EMPTY, render, status_callback_url


def test_the_status_callback_url_is_quoted_and_absolute_behind_a_public_url() -> None:
    assert (
        status_callback_url("https://sms.example.com", "SM1.0")
        == "https://sms.example.com/twilio/status?ref=SM1.0"
    )
    assert status_callback_url(None, "a&b c") == "/twilio/status?ref=a%26b%20c"


def test_each_reply_carries_its_own_status_callback_and_media() -> None:
    replies = [Reply("SM1.0", "Acme: hi"), Reply("SM1.1", "", ("https://sms.example.com/vcards/acme.vcf",))]
    root = ET.fromstring(render(replies, "https://sms.example.com"))
    messages = list(root.iter("Message"))
    assert [m.get("action") for m in messages] == [
        "https://sms.example.com/twilio/status?ref=SM1.0",
        "https://sms.example.com/twilio/status?ref=SM1.1",
    ]
    assert messages[0].text == "Acme: hi"
    assert [media.text for media in messages[1].iter("Media")] == ["https://sms.example.com/vcards/acme.vcf"]


def test_no_reply_is_an_empty_response() -> None:
    assert render([], None) == EMPTY and ET.fromstring(EMPTY).tag == "Response"
