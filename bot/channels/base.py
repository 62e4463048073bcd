"""What every channel offers the rest of smsbot: a Sender for outbound texts, and the neutral
shapes of what goes out and what the carrier reports back. Channel packages (`twilio/`) fill them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Reply:
    """A reply that goes back in the webhook's own answer (TwiML for Twilio)."""

    ref: str  # idempotency key, also how a delivery report finds it
    body: str
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboundMessage:
    ref: str  # our idempotency key for this message; delivery reports name it
    to: str  # E.164
    body: str
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
    sid: str | None  # the carrier's id for the message, once it took it
    status: str  # the carrier's first status ("queued", "accepted"), "simulated", or "failed"
    error_code: int | None = None
    error_message: str | None = None
    retry: bool = False  # a temporary failure: the carrier did not take it; try again later
    opted_out: bool = False  # the carrier refuses: the number opted out there
    unknown: bool = False  # no answer (a timeout, a connection lost mid-call): it may have been taken


@dataclass(frozen=True)
class StatusReport:
    """A delivery report for a message we sent, in the channel-neutral form the pipeline records."""

    sid: str  # the carrier's id for the message
    status: str  # queued, sent, delivered, undelivered, failed, read, ...
    ref: str | None = None  # our ref, when the channel carries it back
    error_code: int | None = None
    opted_out: bool = False  # the carrier says the number opted out there


@dataclass(frozen=True)
class Found:
    """A message the carrier holds, as listed by its API."""

    sid: str
    body: str
    status: str
    created: datetime | None


class Sender(Protocol):
    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def recent(self, to: str) -> list[Found]:
        """Messages recently sent to `to`, newest first: how a crashed hand-over is checked."""
        ...

    async def close(self) -> None: ...
