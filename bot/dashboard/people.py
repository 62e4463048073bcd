"""How the dashboard writes times, languages and media for people to read: "6 Dec, 14:03" in the
program's zone (with the year when it is not this one), "Spanish", a file's name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from urllib.parse import unquote, urlsplit

from babel import Locale, UnknownLocaleError

PURPOSES = {  # who wrote an outgoing message, as the inbox's thread says it
    "reply": "automatic reply",
    "consent": "consent message",
    "transactional": "order news",
    "marketing": "campaign or flow",
    "person": "a person",
}


def when(zone: tzinfo, now: datetime) -> Callable[[datetime | None], str]:
    def written(at: datetime | None) -> str:
        if at is None:
            return ""
        local = at.astimezone(zone)
        day = f"{local.day} {local:%b}"
        if local.year != now.astimezone(zone).year:
            day += f" {local.year}"
        return f"{day}, {local:%H:%M}"

    return written


def language_name(code: str | None, default: str) -> str:
    """The language's English name; None is the program's own, named."""
    try:
        name = Locale.parse(code or default).get_display_name("en")
    except (ValueError, UnknownLocaleError):
        return code or default
    return f"{name} (the program's)" if code is None else str(name)


def media_name(url: str) -> str:
    """A media link as a person reads it: a contact card, or the file's name."""
    path = unquote(urlsplit(url).path)
    name = path.rsplit("/", 1)[-1] or url
    return f"contact card ({name})" if name.endswith(".vcf") else name
