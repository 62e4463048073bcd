"""Keyword posters: an `sms:` link that opens the phone's messaging app with the keyword filled in,
its QR code (SVG and PNG), and a printable SVG poster with the call to action and the short
disclosure the CTIA expects (program name, frequency, rates, HELP and STOP)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import segno

from bot.domain.i18n import translations
from bot.domain.model import Keyword, ProgramInfo
from bot.domain.replies import POSTER_AGREE, POSTER_CALL, POSTER_HELP, POSTER_RATES, POSTER_SCAN, render

_NUMBER = re.compile(r"\+[1-9][0-9]{6,14}|[0-9]{4,8}")  # E.164, or a short code


class PosterProblem(ValueError):
    pass


@dataclass(frozen=True)
class Poster:
    keyword: str
    number: str
    link: str  # sms:+15555550100?&body=SHOES
    language: str | None = None  # the keyword's language (UNETE: es); None: the program's

    def qr_svg(self) -> bytes:
        return _save(self.link, "svg")

    def qr_png(self) -> bytes:
        return _save(self.link, "png")

    def poster_svg(self, info: ProgramInfo) -> bytes:
        """A letter-sized SVG: the call to action, the QR code, the disclosure."""
        qr = segno.make(self.link, error="m")
        size = qr.symbol_size(scale=12, border=4)[0]
        path = qr.svg_inline(scale=12, border=4, dark="#000", light="#fff")
        language = self.language or info.default_language
        say = _words(info, language)
        lines = disclosure(info, self.keyword, language)
        texts = "".join(
            f'<text x="306" y="{640 + 22 * n}" font-size="15" text-anchor="middle">{escape(line)}</text>'
            for n, line in enumerate(lines)
        )
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="612" height="792" viewBox="0 0 612 792">'
            '<rect width="612" height="792" fill="#fff"/>'
            f'<text x="306" y="90" font-size="40" font-weight="bold" text-anchor="middle">'
            f"{escape(say(POSTER_CALL, keyword=self.keyword, number=self.number))}</text>"
            f'<text x="306" y="130" font-size="20" text-anchor="middle">'
            f"{escape(info.context(language)['program'])}</text>"
            f'<g transform="translate({(612 - size) // 2},160)">{path}</g>'
            f'<text x="306" y="{175 + size}" font-size="14" text-anchor="middle">'
            f"{escape(say(POSTER_SCAN))}</text>"
            f"{texts}</svg>"
        )
        return svg.encode()


def poster(keyword: Keyword, number: str | None) -> Poster:
    """The poster of an opt-in keyword, texted to `number` (E.164 or a short code)."""
    if not number or not _NUMBER.fullmatch(number):
        raise PosterProblem(
            "a poster needs the number people text: set posters.number (a short code or +1...) "
            "or TWILIO_FROM_NUMBER"
        )
    return Poster(keyword.name, number, f"sms:{number}?&body={keyword.name}", keyword.language)


def disclosure(info: ProgramInfo, keyword: str, language: str | None = None) -> list[str]:
    """The short disclosure under a call to action, in `language` (the program's by default)."""
    say = _words(info, language or info.default_language)
    return [say(POSTER_AGREE, keyword=keyword), say(POSTER_RATES), say(POSTER_HELP)]


def _words(info: ProgramInfo, language: str) -> Callable[..., str]:
    """A poster's words in `language`, from smsbot's catalogs and the program's own translations."""

    def say(message: str, **extra: str) -> str:
        return render(message, info, translations(language).gettext, language, **extra)

    return say


def _save(content: str, kind: str) -> bytes:
    out = io.BytesIO()
    segno.make(content, error="m").save(out, kind=kind, scale=10, border=4)
    return out.getvalue()
