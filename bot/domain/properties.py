"""Declared profile properties: each has a type, so values are checked before they are stored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bot.domain.text import clean_answer


class PropertyType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"  # ISO "2026-03-14", or "--03-14" for a day without a year (a birthday)
    CHOICE = "choice"  # one of `choices`
    LIST = "list"  # several of `choices` (or any text when no choices are given)


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_MONTH_DAY = re.compile(r"^(\d{1,2})[/-](\d{1,2})$")
_MONTH_DAY_YEAR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class PropertySpec:
    name: str
    type: PropertyType
    choices: tuple[str, ...] = ()
    max_length: int = 160  # text: a longer answer is not a name or a city but a paragraph: re-asked

    def coerce(self, value: Any) -> Any:
        """The stored form of `value`, or ValueError saying what was expected."""
        kind = self.type
        if kind is PropertyType.TEXT:
            if isinstance(value, bool | dict | list):
                raise ValueError(f"{self.name} is text: expected a word or sentence, got {value!r}")
            text = clean_answer(str(value))
            if len(text) > self.max_length:
                raise ValueError(f"{self.name} is at most {self.max_length} characters, got {len(text)}")
            return text
        if kind is PropertyType.NUMBER:
            if isinstance(value, bool):
                raise ValueError(f"{self.name} is a number, got {value!r}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{self.name} is a number, got {value!r}") from None
            return int(number) if number.is_integer() else number
        if kind is PropertyType.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise ValueError(f"{self.name} is true or false, got {value!r}")
        if kind is PropertyType.DATE:
            return _date(self.name, value)
        if kind is PropertyType.CHOICE:
            return self._choice(value)
        values = value if isinstance(value, list | tuple) else [value]
        return [self._choice(v) if self.choices else clean_answer(str(v)) for v in values]

    def _choice(self, value: Any) -> str:
        text = str(value).strip().lower()
        for choice in self.choices:
            if choice.lower() == text:
                return choice
        raise ValueError(f"{self.name}: {value!r} is not one of {', '.join(self.choices)}")


def _date(name: str, value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    if match := _MONTH_DAY_YEAR.match(text):
        month, day, year = map(int, match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            pass
    elif match := _MONTH_DAY.match(text):
        month, day = map(int, match.groups())
        try:
            date(2000, month, day)  # a leap year, so 02/29 is a birthday
            return f"--{month:02d}-{day:02d}"
        except ValueError:
            pass
    raise ValueError(f"{name} is a date: expected YYYY-MM-DD or MM/DD, got {value!r}")


# Set by smsbot itself, usable in templates, splits and segments like any declared property.
VCARD_RECEIVED = "vcard_received"  # the contact card's message was delivered (status callback)
BUILT_IN = {VCARD_RECEIVED: PropertySpec(VCARD_RECEIVED, PropertyType.BOOLEAN)}
