"""Folding texted words so that STOP, stop., Ｓｔｏｐ and "Stop!" are one word."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_APOSTROPHES = str.maketrans("", "", "'’‘`´")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isalnum():
        return ch
    return " "


def fold(text: str) -> str:
    """Lowercase, full-width and accents folded, apostrophes dropped, other punctuation as spaces.

    The result is the message's words joined by single spaces ("Don't STOP!!" -> "dont stop").
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFC", text)
    return " ".join("".join(map(_fold_char, text)).split())


def words(text: str) -> list[str]:
    return fold(text).split()
