"""Durations as a marketer writes them: 10m, 2h, 1d (and 30s)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(text: Any) -> timedelta | None:
    found = _DURATION.match(str(text))
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))}) if found else None
