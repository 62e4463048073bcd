"""TwiML replies, and the status-callback URL each message carries (built here, once, quoted).

Written as text, escaped as Twilio's own library (ElementTree) escapes it, byte for byte (a test
holds the two together): building an element tree for every answer cost more than the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from bot.channels.base import Reply

CONTENT_TYPE = "text/xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY = f"{_DECLARATION}<Response />"
STATUS_PATH = "/twilio/status"
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
)


def status_callback_url(public_url: str | None, ref: str) -> str:
    """Where Twilio reports on the message `ref`: absolute with a public URL, else relative."""
    return f"{public_url or ''}{STATUS_PATH}?ref={quote(ref, safe='')}"


def render(replies: Sequence[Reply], public_url: str | None) -> str:
    """The answer to a webhook: each reply a <Message> reporting to its status callback."""
    if not replies:
        return EMPTY
    messages = []
    for reply in replies:
        action = status_callback_url(public_url, reply.ref).translate(_ATTRIBUTE)
        media = "".join(_element("Media", url.translate(_TEXT)) for url in reply.media_urls)
        messages.append(
            _element(f'Message action="{action}" method="POST"', reply.body.translate(_TEXT) + media)
        )
    return f"{_DECLARATION}<Response>{''.join(messages)}</Response>"


def _element(opening: str, inner: str) -> str:
    name = opening.split(" ", 1)[0]
    return f"<{opening}>{inner}</{name}>" if inner else f"<{opening} />"
