"""Quiet hours: marketing goes out only inside the allowed window in the subscriber's local time.

The time zone comes from the phone number (phonenumbers); a number whose area spans several zones
must be inside the window in all of them. Transactional replies (confirmations, HELP) are exempt:
callers ask only for marketing steps. Pure: the clock is an argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones

from bot.domain.phones import region_of

MAX_ZONES = 3  # more zones than this for one number means "somewhere in the country"


@lru_cache(maxsize=100_000)  # parsing the number is most of the cost, and a burst repeats numbers
def _zones(phone: str) -> tuple[ZoneInfo, ...]:
    """The zones the number may be in; empty when it cannot be placed."""
    try:
        names = number_zones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        names = ()
    if len(names) > MAX_ZONES:
        # phonenumbers gives every zone of the country when it cannot place a number (+1 500
        # lists 40, Guam to Newfoundland); no window is open in all of them, so treat it as unplaceable.
        names = ()
    return tuple(zone for zone in map(_zone, names) if zone is not None)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    """The zone of that name, or None ("Etc/Unknown"): looked for on disk once, not per number."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Window:
    start: time = time(8, 0)
    end: time = time(21, 0)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"quiet hours: the window must open before it closes ({self.start}-{self.end})")

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class QuietHours:
    default: Window = field(default_factory=Window)
    per_country: Mapping[str, Window] = field(default_factory=dict)  # ISO 3166 region, e.g. "FR"
    fallback_zone: str = "UTC"  # for numbers phonenumbers cannot place

    def zones(self, phone: str) -> list[ZoneInfo]:
        return list(_zones(phone) or (ZoneInfo(self.fallback_zone),))

    def window(self, phone: str, country: str | None = None) -> Window:
        """The window of the number's country (`country` as stored spares parsing the number)."""
        if not self.per_country:
            return self.default
        return self.per_country.get(country or region_of(phone) or "", self.default)

    def allows(self, now: datetime, phone: str, country: str | None = None) -> bool:
        window = self.window(phone, country)
        return all(window.contains(now.astimezone(zone).time()) for zone in self.zones(phone))

    def next_allowed(self, now: datetime, phone: str, country: str | None = None) -> datetime:
        """`now` if marketing may go out now, else when the window next opens everywhere the number may be."""
        if now.tzinfo is None:
            raise ValueError("next_allowed needs an aware datetime")
        if self.allows(now, phone, country):
            return now
        window = self.window(phone, country)
        candidates = []
        for zone in self.zones(phone):
            local = now.astimezone(zone)
            for days in range(3):
                opening = datetime.combine(local.date() + timedelta(days=days), window.start, tzinfo=zone)
                if opening > now:
                    candidates.append(opening.astimezone(UTC))
        for candidate in sorted(candidates):
            if self.allows(candidate, phone, country):
                return candidate
        # The zones' windows never overlap (a rare area code): open at the earliest of them.
        return min(candidates)
