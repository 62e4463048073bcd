"""Folding texted words so that STOP, stop., Ｓｔｏｐ and "Stop!" are one word."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans("", "", "'’‘`´")


_NOT_WORD = re.compile(r"[\W_]+")  # \w is str.isalnum() and "_"
# The same folding for a message of ASCII alone (most are), byte by byte: a capital lowercased, a
# letter or digit kept, any other character a space, an apostrophe or backtick dropped.
_ASCII = bytes(
    (c + 32 if 65 <= c <= 90 else c) if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256)
)


def fold(text: str) -> str:
    """Lowercase, full-width and accents folded, apostrophes dropped, other punctuation as spaces.

    The result is the message's words joined by single spaces ("Don't STOP!!" -> "dont stop").
    """
    if text.isascii():
        return " ".join(text.encode("ascii").translate(_ASCII, b"'`").decode("ascii").split())
    return fold_unicode(text)


def fold_unicode(text: str) -> str:
    """`fold` for any text: what the ASCII path must give for ASCII too."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFC", text)
    return " ".join(_NOT_WORD.split(text)).strip()


def words(text: str) -> list[str]:
    return fold(text).split()


MAX_MESSAGE = 1600  # characters: the longest body a carrier takes in one message (Twilio's limit)
# What XML 1.0 (TwiML) cannot carry: C0 controls but tab and newlines, surrogates, U+FFFE and U+FFFF.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufffe\uffff]")  # and the NUL placeholder


def sendable(text: str) -> str:
    """A message a carrier takes: no character XML 1.0 forbids, at most MAX_MESSAGE characters."""
    text = _NOT_IN_XML.sub("", text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def clean_answer(text: str) -> str:
    """What a subscriber typed, fit to keep in a profile: control characters dropped, spaces folded."""
    if not text.isprintable() or "\ufffd" in text:  # most answers have nothing to drop
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())
