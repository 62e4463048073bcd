"""GSM-7 and UCS-2: which encoding a text needs and how many segments it is billed as.

One character outside the GSM 03.38 tables (a curly quote, an emoji) sends the whole message as
UCS-2: 70 characters a segment instead of 160, so a text can cost three times as much.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each (escape + char)


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    ucs2_characters: tuple[str, ...]  # the characters that force UCS-2, in order of first use

    def describe(self) -> str:
        text = f"{self.encoding}, {self.segments} segment{'s' if self.segments != 1 else ''}"
        if self.ucs2_characters:
            shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in self.ucs2_characters)
            text += f"; UCS-2 because of {shown}"
        return text


def segments(text: str) -> Segments:
    distinct = dict.fromkeys(text)  # in order of first use
    outside = tuple(c for c in distinct if c not in GSM7_BASIC and c not in GSM7_EXTENDED)
    if not outside:
        septets = len(text) + sum(text.count(c) for c in distinct if c in GSM7_EXTENDED)
        count = 1 if septets <= 160 else -(-septets // 153)
        return Segments("GSM-7", septets, count, ())
    units = len(text.encode("utf-16-le")) // 2
    count = 1 if units <= 70 else -(-units // 67)
    return Segments("UCS-2", units, count, outside)
