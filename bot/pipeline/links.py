"""Tracked links made real: each mark a template left (`domain/links.py`) becomes a short link of
its own, one per recipient and message, recorded in the same transaction as the message."""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from bot.domain.links import CODE_LENGTH, Marked, short_url, swap, unmarked
from bot.store import rows

_ALPHABET = string.ascii_letters + string.digits


def new_code() -> str:
    """CODE_LENGTH random base62 characters from one call to the system's randomness: a byte
    per character and two more (62 < 2**6, so 16 spare bits leave a bias below 2**-16)."""
    number = int.from_bytes(secrets.token_bytes(CODE_LENGTH + 2), "big")
    characters = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        characters.append(_ALPHABET[digit])
    return "".join(characters)


def track(
    body: str,
    found: list[rows.Row],
    *,
    base: str | None,
    subscriber_id: int,
    ref: str,
    origin: str,
    now: datetime,
    campaign_id: int | None = None,
) -> str:
    """`body` with its marked links shortened; the links' rows are added to `found`. `origin`
    ("campaign:shoe_sale", "keyword:JOIN") names a link whose template did not say."""
    if base is None:
        return unmarked(body)  # no public URL to point at: the plain URLs, untracked

    def shorten(marked: Marked) -> str:
        code = new_code()
        kind, _, name = (marked.origin or origin).partition(":")
        found.append(rows.link(code, marked.url, subscriber_id, ref, kind, name or kind, campaign_id, now))
        return short_url(base, code)

    return swap(body, shorten)
