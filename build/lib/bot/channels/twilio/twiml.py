"""TwiML replies, and the status-callback URL each message carries (built here, once, quoted)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.base import Reply

CONTENT_TYPE = "text/xml"
EMPTY = str(MessagingResponse())
STATUS_PATH = "/twilio/status"


def status_callback_url(public_url: str | None, ref: str) -> str:
    """Where Twilio reports on the message `ref`: absolute with a public URL, else relative."""
    return f"{public_url or ''}{STATUS_PATH}?ref={quote(ref, safe='')}"


def render(replies: Sequence[Reply], public_url: str | None) -> str:
    if not replies:
        return EMPTY
    response = MessagingResponse()
    for reply in replies:
        message = response.message(
            reply.body, action=status_callback_url(public_url, reply.ref), method="POST"
        )
        for url in reply.media_urls:
            message.media(url)
    return str(response)
