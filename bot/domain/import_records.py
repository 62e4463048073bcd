"""The rows an imported line becomes: a new subscriber, and the consent record that keeps the file's
evidence. Built in one place for the importer's two paths (a number new to the list, written as
read; a number already here, decided against what is kept).

No I/O here: plain dicts, keyed by column, for the store to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from bot.domain.list_import import ImportRow
from bot.domain.phones import region_of
from bot.domain.subscription import Status

IMPORTED = "imported"  # the consent record's action
STORED = {status: status.value for status in Status}  # as stored (an enum's .value is slow)
_SUBSCRIBED, _UNSUBSCRIBED = STORED[Status.SUBSCRIBED], STORED[Status.UNSUBSCRIBED]
_WHEN_UNKNOWN = " (no consent time in the file: the time of the import is kept)"


def new_subscribers(rows: Sequence[ImportRow], source: str, now: datetime) -> dict[str, list[Any]]:
    """Numbers new to the list as subscribers at the file's status, a column at a time (as the
    store writes many at once)."""
    subscribed = [row.status is Status.SUBSCRIBED for row in rows]
    at = [row.consented_at or now for row in rows]
    languages = [row.language for row in rows]
    return {
        "phone": [row.phone for row in rows],
        "country": [_region(row.phone) for row in rows],
        "created_at": [now] * len(rows),
        "updated_at": [now] * len(rows),
        "language": languages,
        "language_source": ["import" if language else None for language in languages],
        "opt_in_source": [source if yes else None for yes in subscribed],
        "opt_in_keyword": [row.keyword if yes else None for row, yes in zip(rows, subscribed, strict=True)],
        "properties": [dict(row.properties) for row in rows],
        "subscribed_at": [when if yes else None for when, yes in zip(at, subscribed, strict=True)],
        "unsubscribed_at": [None if yes else when for when, yes in zip(at, subscribed, strict=True)],
        "status": [_SUBSCRIBED if yes else _UNSUBSCRIBED for yes in subscribed],
    }


def new_records(rows: Sequence[ImportRow], source: str, now: datetime) -> dict[str, list[Any]]:
    """The consent records of numbers new to the list, a column at a time (their subscriber ids
    left at 0, for the store to fill in)."""
    n = len(rows)
    return {
        "subscriber_id": [0] * n,
        "action": [IMPORTED] * n,
        "from_status": [STORED[Status.NEW]] * n,
        "to_status": [_SUBSCRIBED if row.status is Status.SUBSCRIBED else _UNSUBSCRIBED for row in rows],
        "keyword": [None] * n,  # the keyword's own counts are for keywords texted here
        "source": [source] * n,
        "text": [evidence(row) for row in rows],
        "message_sid": [None] * n,
        "at": [row.consented_at or now for row in rows],
    }


def new_subscriber(row: ImportRow, source: str, now: datetime) -> dict[str, Any]:
    """One number new to the list as a subscriber, as `new_subscribers` makes it."""
    return {name: column[0] for name, column in new_subscribers([row], source, now).items()}


def move(stored: dict[str, Any], row: ImportRow, status: Status, source: str, now: datetime) -> None:
    """A subscriber's row moved to `status` by the file's line."""
    at = row.consented_at or now
    stored["status"] = STORED[status]
    if status is Status.SUBSCRIBED:
        stored["subscribed_at"] = at
        stored["opt_in_source"], stored["opt_in_keyword"] = source, row.keyword
    else:
        stored["unsubscribed_at"] = at


def consent_record(
    row: ImportRow, source: str, now: datetime, before: Status, after: Status
) -> dict[str, Any]:
    """The consent record of a line that moved a subscriber (its subscriber id added by the store)."""
    return {
        "action": IMPORTED,
        "from_status": STORED[before],
        "to_status": STORED[after],
        "keyword": None,  # as in new_records
        "source": source,
        "text": evidence(row),
        "message_sid": None,
        "at": row.consented_at or now,
    }


def evidence(row: ImportRow) -> str:
    """The consent record's text: where in the file, and its consent columns as given."""
    unknown = _WHEN_UNKNOWN if row.consented_at is None else ""
    return f"line {row.line}: {row.evidence}{unknown}"[:2000]


@lru_cache(maxsize=4096)
def _nanp_region(prefix: str) -> str | None:
    return region_of(prefix + "5550123")  # the area code alone places a +1 number


def _region(phone: str) -> str | None:
    return _nanp_region(phone[:5]) if phone.startswith("+1") and len(phone) == 12 else region_of(phone)
