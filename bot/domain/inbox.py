"""The conversations inbox, as the domain sees it: which texts a person should read, what the
program answers meanwhile, and when marketing waits for a conversation. No I/O here.

A text the program does not consume (no keyword, no flow answer, no compliance word) opens a
conversation with the subscriber, or joins the one that is open. Its automatic answer, at most one
per conversation, is the inbox's own (`inbox.auto_reply`, one text in office hours and another
outside them) or, without one, the program's usual answer to words it does not know. Within an
open conversation, nothing automatic answers: a person is on it. A STOP closes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.templates import LocalizedMessage

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int] = frozenset(range(5))  # Monday is 0
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def open_at(self, now: datetime, zone: ZoneInfo) -> bool:
        local = now.astimezone(zone)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes


@dataclass(frozen=True)
class Inbox:
    """The program's `inbox:` section."""

    marketing_waits: timedelta = timedelta(hours=2)  # after an open conversation's last message
    auto_reply: LocalizedMessage | None = None  # in office hours (or always, with no hours)
    auto_reply_closed: LocalizedMessage | None = None  # outside them
    office_hours: OfficeHours | None = None
    saved_replies: Mapping[str, LocalizedMessage] = field(default_factory=dict)

    def automatic(self, now: datetime, zone: ZoneInfo) -> LocalizedMessage | None:
        """The auto-reply for a conversation opened now (None: the program's usual answer)."""
        if self.office_hours is None or self.office_hours.open_at(now, zone):
            return self.auto_reply
        return self.auto_reply_closed or self.auto_reply


class Converse(StrEnum):
    OPENED = "opened"  # a text for a person: a new conversation
    JOINED = "joined"  # a text for a person: the open conversation
    CLOSED = "closed"  # they opted out: the open conversation ends


def converse(for_a_person: bool, opted_out: bool, talking: bool) -> Converse | None:
    """What a text does to the subscriber's conversations (`talking`: one is open)."""
    if opted_out:
        return Converse.CLOSED if talking else None
    if not for_a_person:
        return None
    return Converse.JOINED if talking else Converse.OPENED


def waits_for_conversation(
    last_message_at: datetime | None, waits: timedelta, now: datetime
) -> datetime | None:
    """Until when marketing to someone in an open conversation waits (None: it need not)."""
    if last_message_at is None or waits <= timedelta(0):
        return None
    until = last_message_at + waits
    return until if until > now else None
