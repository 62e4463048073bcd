"""TwiML answers (Twilio's own library's, byte for byte, whatever the replies hold), and the one
status-callback URL both the answer and the REST sender use."""

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.base import Reply
from bot.channels.twilio import twiml
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


# Any text a reply or a URL can hold (XML cannot carry surrogates; ElementTree refuses them too).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
REPLY = st.builds(Reply, ref=TEXT, body=TEXT, media_urls=st.lists(TEXT, max_size=2).map(tuple))


def twilio_library(replies: list[Reply], public_url: str | None) -> str:
    response = MessagingResponse()
    for reply in replies:
        message = response.message(
            reply.body, action=twiml.status_callback_url(public_url, reply.ref), method="POST"
        )
        for url in reply.media_urls:
            message.media(url)
    return str(response)


@given(st.lists(REPLY, max_size=3), st.one_of(st.none(), TEXT))
def test_every_answer_is_what_twilios_library_writes(replies: list[Reply], public_url: str | None) -> None:
    assert twiml.render(replies, public_url) == twilio_library(replies, public_url)


def test_markup_and_line_breaks_are_escaped_where_they_stand() -> None:
    card = Reply("SM1.0", 'Tom & Jerry <3 "quoted"\nnext line', ("https://m.example/a.png?x=1&y=2",))
    assert twiml.render([card], 'https://sms.example.com/"x"\n') == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Message action="https://sms.example.com/&quot;x&quot;&#10;/twilio/status?ref=SM1.0" method="POST">'
        'Tom &amp; Jerry &lt;3 "quoted"\nnext line'
        "<Media>https://m.example/a.png?x=1&amp;y=2</Media></Message></Response>"
    )
    assert twiml.render([], None) == str(MessagingResponse())
