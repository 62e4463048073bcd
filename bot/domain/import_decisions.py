"""What an imported row does to the list: a new subscriber, a newer consent, properties filled in,
or nothing, and why. The rules that keep an import from texting, or re-subscribing, anyone:

- a number erased on request is never brought back by a list (only by the person opting in again);
- a person who unsubscribed here stays unsubscribed whatever the file says (their STOP stands);
- a consent change is taken only when the file's time is newer than the last consent kept here;
- properties and language only fill what is empty: what a subscriber told us is not overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.list_import import ImportRow
from bot.domain.subscription import Status


class Effect(StrEnum):
    CREATED = "created"  # a new subscriber (subscribed or not, as the file says)
    CHANGED = "changed"  # an existing subscriber's consent, from a newer record in the file
    FILLED = "filled"  # properties or language filled in, consent unchanged
    UNCHANGED = "unchanged"  # nothing new (a re-import)
    KEPT = "kept"  # the file disagrees, and what is kept here wins (see `why`)
    ERASED = "erased"  # a number erased on request: not brought back


@dataclass(frozen=True)
class Existing:
    status: Status
    last_consent_at: datetime | None  # the newest consent record kept here
    language: str | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    effect: Effect
    to_status: Status | None = None  # the new status, when it changes (or for a new subscriber)
    properties: dict[str, Any] = field(default_factory=dict)  # the whole set, when it changes
    language: str | None = None  # set when it was empty
    why: str = ""


def decide(row: ImportRow, existing: Existing | None, suppressed: bool) -> Decision:
    if existing is None:
        if suppressed:
            return Decision(Effect.ERASED, why="erased on request: only their own opt-in brings them back")
        return Decision(Effect.CREATED, row.status, dict(row.properties), row.language)
    properties = {**row.properties, **existing.properties}  # ours win
    filled = properties != existing.properties
    language = row.language if existing.language is None else None
    status, why = _consent(row, existing)
    if status is not None:
        return Decision(Effect.CHANGED, status, properties if filled else {}, language)
    if filled or language:
        return Decision(Effect.FILLED, None, properties if filled else {}, language, why)
    return Decision(Effect.KEPT if why else Effect.UNCHANGED, why=why)


def _consent(row: ImportRow, existing: Existing) -> tuple[Status | None, str]:
    """The status the row moves the subscriber to (None: none), and why not when it disagrees."""
    if row.status is existing.status:
        return None, ""
    if existing.status is Status.UNSUBSCRIBED:
        return None, "unsubscribed here: only their own opt-in brings them back"
    if row.consented_at is None:
        return None, "the file gives no consent time to compare with the record here"
    if existing.last_consent_at is not None and row.consented_at <= existing.last_consent_at:
        return None, "the consent kept here is newer"
    return row.status, ""
