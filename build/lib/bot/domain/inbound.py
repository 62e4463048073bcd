"""An inbound text as a channel hands it to us, checked and normalised (each channel parses its own)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


def safe_text(text: str) -> str:
    """PostgreSQL text cannot hold NUL; keep its place visible rather than dropping it silently."""
    return text.replace("\x00", "\ufffd")


class BadInbound(ValueError):
    """The request cannot be an inbound message; the reason is safe to return to the caller."""


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str | None


@dataclass(frozen=True)
class InboundMessage:
    message_sid: str  # the channel's id for the message: a second delivery carries the same one
    sender: str  # E.164
    recipient: str  # our number or short code, as the carrier gave it
    body: str
    received_at: datetime
    media: tuple[Media, ...] = ()
    opt_out_type: str | None = None  # the carrier's own classification: STOP, HELP or START
    account_sid: str | None = None
    simulated: bool = False  # from `smsbot chat`: replies are recorded, never sent
    messaging_service_sid: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
