"""How the dashboard writes times, languages and media for people to read: "6 Dec, 14:03" in the
program's zone (with the year when it is not this one), "Spanish", a file's name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from urllib.parse import unquote, urlsplit

from babel import Locale, UnknownLocaleError

PURPOSES = {  # who wrote an outgoing message, as the inbox's thread says it
    "reply": "automatic reply",
    "consent": "consent message",
    "transactional": "order news",
    "marketing": "campaign or flow",
    "person": "a person",
}


def when(zone: tzinfo, now: datetime) -> Callable[[datetime | str | None], str]:
    def written(at: datetime | str | None) -> str:
        if isinstance(at, str):  # as the admin API writes times: "2026-12-06T14:03:00Z"
            try:
                at = datetime.fromisoformat(at.replace("Z", "+00:00"))
            except ValueError:
                return str(at)
        if at is None:
            return ""
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
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


def property_text(value: object) -> str:
    """A profile property as a person reads it: a birthday "23 April", a date "23 April 2026", a
    list "shoes, events", a yes or a no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(property_text(v) for v in value)
    if isinstance(value, str) and value.startswith("--") and len(value) == 7:  # --MM-DD: a birthday
        try:
            day = date(2000, int(value[2:4]), int(value[5:7]))  # 2000: a leap year, 29 February too
        except ValueError:
            return value
        return f"{day.day} {day:%B}"
    if isinstance(value, str) and len(value) == 10:
        try:
            found = date.fromisoformat(value)
        except ValueError:
            return value
        return f"{found.day} {found:%B %Y}"
    return str(value)


def media_name(url: str) -> str:
    """A media link as a person reads it: a contact card, or the file's name."""
    path = unquote(urlsplit(url).path)
    name = path.rsplit("/", 1)[-1] or url
    return f"contact card ({name})" if name.endswith(".vcf") else name
