"""The gate: whether an outgoing message may leave now, decided in one place from why it exists.

Every message carries its purpose (`Purpose`). The pipeline gathers what the store knows about the
recipient and what happened since the message was queued (`Recipient`, `Since`); `may_send` says
`Send()`, `Hold(until)` or `Cancel(reason)`. It is asked when a message is queued and again when the
worker hands it to the carrier; nothing else decides whether a message may leave.

    purpose        reaches                                   when
    reply          anyone who texted (its answer)            at once
    consent        pending and subscribed; unsubscribed      at once
                   only the confirmation of that opt-out
    transactional  subscribed                                at once (they asked for it)
    marketing      subscribed                                inside quiet hours' window, not within
                                                             smart sending of another, not while a
                                                             person talks with them (the inbox)
    person         anyone not unsubscribed                   at once (a person answering them)

A flow's message is never sent once its run's exit event came (an order after the checkout).
Pure: the clock and the quiet hours are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.quiet_hours import QuietHours
from bot.domain.subscription import Status


class Purpose(StrEnum):
    REPLY = "reply"  # answers the text just received
    CONSENT = "consent"  # a double opt-in prompt; an opt-in's or an opt-out's confirmation
    TRANSACTIONAL = "transactional"  # an order's or a shipment's news: the shopper asked for it
    MARKETING = "marketing"  # campaigns and marketing flow steps
    PERSON = "person"  # a person's reply from the inbox


class Reason(StrEnum):
    """Why a message was held back for good: kept on its row, counted on the dashboard."""

    NOT_SUBSCRIBED = "not_subscribed"  # they never subscribed, or are waiting to confirm
    OPTED_OUT = "opted_out"  # they opted out after it was queued
    EXITED = "exit_condition"  # its run's exit event came (they ordered since the checkout)
    SMART_SENDING = "smart_sending"  # another marketing text reached them within the window
    CAMPAIGN_STOPPED = "campaign_stopped"  # its campaign was paused or cancelled


# How the dashboard names each reason (and a message that could not be written: "template").
SAID = {
    Reason.NOT_SUBSCRIBED: "not subscribed",
    Reason.OPTED_OUT: "opted out before it went",
    Reason.EXITED: "its flow's exit came (ordered since)",
    Reason.SMART_SENDING: "smart sending (another marketing text within the window)",
    Reason.CAMPAIGN_STOPPED: "campaign paused or cancelled",
    "template": "could not be written (a template failed)",
    "no_coupon": "held back: its coupon pool had no code left",
}

# Who each purpose may reach. Unsubscribed subscribers are also reached by the confirmation of their
# own opt-out: a consent message queued at or after it (see `_reaches`).
REACHES: dict[Purpose, frozenset[Status]] = {
    Purpose.REPLY: frozenset(Status),
    Purpose.CONSENT: frozenset({Status.NEW, Status.PENDING, Status.SUBSCRIBED}),
    Purpose.TRANSACTIONAL: frozenset({Status.SUBSCRIBED}),
    Purpose.MARKETING: frozenset({Status.SUBSCRIBED}),
    Purpose.PERSON: frozenset({Status.NEW, Status.PENDING, Status.SUBSCRIBED}),
}


@dataclass(frozen=True)
class Outgoing:
    """What the gate reads of a message."""

    purpose: Purpose
    queued_at: datetime
    smart_sending: timedelta | None = None  # marketing: nobody gets another within this


@dataclass(frozen=True)
class Recipient:
    phone: str
    country: str | None
    status: Status
    unsubscribed_at: datetime | None = None


@dataclass(frozen=True)
class Since:
    """What the store knows that bears on the message (gathered by the pipeline, read under lock)."""

    exited: bool = False  # its run's exit event came at or after the event that started the run
    # Another marketing message to them: handed to the carrier, or queued before this one (neither
    # failed nor held back), the latest's time. Smart sending measures from it.
    other_marketing: datetime | None = None
    # They are in an open conversation with a person (the inbox): marketing waits until then.
    talking_until: datetime | None = None


@dataclass(frozen=True)
class Send:
    pass


@dataclass(frozen=True)
class Hold:
    until: datetime


@dataclass(frozen=True)
class Cancel:
    reason: Reason


Verdict = Send | Hold | Cancel


def may_send(message: Outgoing, to: Recipient, since: Since, quiet: QuietHours, now: datetime) -> Verdict:
    """Send now, hold until the window opens, or cancel for good (with the reason)."""
    if not _reaches(message, to):
        unsubscribed = to.status is Status.UNSUBSCRIBED
        return Cancel(Reason.OPTED_OUT if unsubscribed else Reason.NOT_SUBSCRIBED)
    if since.exited and message.purpose is not Purpose.REPLY:
        return Cancel(Reason.EXITED)
    if message.purpose is not Purpose.MARKETING:
        return Send()
    if (
        message.smart_sending is not None
        and since.other_marketing is not None
        and since.other_marketing > now - message.smart_sending
    ):
        return Cancel(Reason.SMART_SENDING)
    if since.talking_until is not None and since.talking_until > now:
        return Hold(since.talking_until)  # a person is talking with them: no campaign in between
    if not quiet.allows(now, to.phone, to.country):
        return Hold(quiet.next_allowed(now, to.phone, to.country))
    return Send()


def _reaches(message: Outgoing, to: Recipient) -> bool:
    if to.status in REACHES[message.purpose]:
        return True
    return (
        message.purpose is Purpose.CONSENT
        and to.status is Status.UNSUBSCRIBED
        and to.unsubscribed_at is not None
        and message.queued_at >= to.unsubscribed_at
    )
