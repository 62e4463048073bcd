"""Campaigns: a message for a segment, sent once, when the marketer says. Pure: what a campaign is,
what fixes it when sending starts, and when each recipient's message may go."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from bot.domain.ab_tests import ABTest
from bot.domain.templates import LocalizedMessage

EARLIEST_OFFSET = timedelta(hours=14)  # UTC+14 (Kiribati): where a local time of day comes first


class Timing(StrEnum):
    MANUAL = "manual"  # only `smsbot campaign send`
    AT = "at"  # at a date and time in the brand's zone
    LOCAL = "local"  # at a date and time in each subscriber's own zone


class Status(StrEnum):
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FINISHED = "finished"


@dataclass(frozen=True)
class Campaign:
    name: str
    segment: str
    message: LocalizedMessage
    media: tuple[str, ...] = ()
    timing: Timing = Timing.MANUAL
    send_at: datetime | None = None  # naive: a wall-clock time, in the brand's or each subscriber's zone
    smart_sending_hours: float | None = 24.0  # skip whoever got marketing this recently; None: off
    spread_minutes: float = 0.0  # spread the sends over this long
    max_segments: int = 3  # a longer message is refused by the checker
    draft: bool = False  # its schedule is not followed: sent only when told
    defined_at: tuple[str, int] = ("", 0)  # file and line, for what `smsbot check` says of it
    test: ABTest | None = None  # an A/B test: its first variant is `message` and `media`

    def definition(self) -> dict[str, Any]:
        """What is fixed when sending starts: kept with the campaign, whatever the YAML says later."""
        found: dict[str, Any] = {
            "segment": self.segment,
            "messages": {language: t.source for language, t in self.message.variants.items()},
            "default_language": self.message.default,
            "media": list(self.media),
            "timing": self.timing.value,
            "send_at": self.send_at.isoformat() if self.send_at else None,
            "smart_sending_hours": self.smart_sending_hours,
            "spread_minutes": self.spread_minutes,
        }
        if self.test is not None:
            found["test"] = {
                "variants": {
                    v.name: {
                        "messages": {language: t.source for language, t in v.message.variants.items()},
                        "media": list(v.media),
                    }
                    for v in self.test.variants
                },
                "share": self.test.share,
                "metric": self.test.metric.value,
                "wait_seconds": self.test.wait.total_seconds(),
                "automatic": self.test.automatic,
            }
        return found

    @property
    def fingerprint(self) -> str:
        """What the campaign sends, to whom and how: the same under another name is the same campaign."""
        sent = {k: v for k, v in self.definition().items() if k not in ("timing", "send_at")}
        return hashlib.sha256(json.dumps(sent, sort_keys=True).encode()).hexdigest()

    def starts_at(self, brand: tzinfo) -> datetime | None:
        """When sending starts by itself (the audience is fixed then); None: only when told."""
        if self.send_at is None or self.timing is Timing.MANUAL or self.draft:
            return None
        if self.timing is Timing.AT:
            return self.send_at.replace(tzinfo=brand).astimezone(UTC)
        return self.send_at.replace(tzinfo=UTC) - EARLIEST_OFFSET  # the first zone to reach that time


@dataclass(frozen=True)
class Pace:
    """When each recipient's message may go, fixed with the audience."""

    started: datetime
    total: int
    timing: Timing = Timing.MANUAL
    send_at: datetime | None = None  # naive, for LOCAL
    spread: timedelta = timedelta(0)

    @classmethod
    def of(cls, definition: Mapping[str, Any], started: datetime, total: int) -> Pace:
        send_at = definition.get("send_at")
        return cls(
            started,
            total,
            Timing(definition.get("timing", Timing.MANUAL.value)),
            datetime.fromisoformat(send_at) if send_at else None,
            timedelta(minutes=float(definition.get("spread_minutes") or 0)),
        )

    @property
    def uniform(self) -> bool:
        """Everyone at the start: no spreading, no local times."""
        return self.spread == timedelta(0) and self.timing is not Timing.LOCAL

    def send_after(self, index: int, zone: tzinfo) -> datetime:
        """The `index`-th recipient's time (in `zone`, their own); never before the start."""
        at = self.started
        if self.timing is Timing.LOCAL and self.send_at is not None:
            at = max(at, self.send_at.replace(tzinfo=zone).astimezone(UTC))
        if self.total > 1 and self.spread:
            at += self.spread * (index / self.total)
        return at
