"""Automations that run on a date rather than on an event: `trigger: {date: birthday, at: "10:00"}`.

Once a year, on the month and day of a date property (a birthday kept as "--04-23" or
"1990-04-23"), at a time of day in each subscriber's own zone; someone born on 29 February has it
on 28 February in other years. The run's key is the year, so a subscriber gets it once a year
however often the worker looks. Pure: the worker passes the clock and the candidates.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DATE_TRIGGER_KEY = "date"


@dataclass(frozen=True)
class DateTrigger:
    property: str  # a date property: its month and day, every year
    at: time = time(10, 0)  # in the subscriber's zone


def month_days(day: date) -> tuple[str, ...]:
    """The "MM-DD" endings that fall on `day`: its own, and 02-29 on 28 February of a common year."""
    found = [f"{day.month:02d}-{day.day:02d}"]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        found.append("02-29")
    return tuple(found)


def days_somewhere(now: datetime) -> tuple[date, ...]:
    """Every date that is today in some zone at `now` (UTC-12 to UTC+14): at most three."""
    return tuple(sorted({(now + timedelta(hours=offset)).date() for offset in (-12, 0, 14)}))


def candidates_endings(now: datetime) -> tuple[str, ...]:
    """The "MM-DD" endings a subscriber's date may have to be today somewhere (what SQL selects)."""
    return tuple(dict.fromkeys(end for day in days_somewhere(now) for end in month_days(day)))


@dataclass(frozen=True)
class Due:
    key: str  # the run's key: the year of the day, once a year
    at: datetime  # when its first step is due (UTC)
    on: date  # the day, in their zone


def due_today(trigger: DateTrigger, value: str | None, zone: ZoneInfo, now: datetime) -> Due | None:
    """The run to start for a subscriber whose property is `value`, if its day is today in their
    zone; None otherwise (or when the value is no date)."""
    if not value or len(value) < 5:
        return None
    today = now.astimezone(zone).date()
    if value[-5:] not in month_days(today):
        return None
    at = datetime.combine(today, trigger.at, tzinfo=zone)
    return Due(str(today.year), max(at, now), today)


def next_day(value: str | None, zone: ZoneInfo, now: datetime) -> date | None:
    """The next day (today included, in `zone`) that `value`'s month and day fall on: for
    `smsbot chat`'s /skip, which brings a date-triggered flow forward to it."""
    if not value or len(value) < 5:
        return None
    today = now.astimezone(zone).date()
    for ahead in range(366 * 4 + 1):  # 29 February comes round within four years
        day = today + timedelta(days=ahead)
        if value[-5:] in month_days(day):
            return day
    return None
