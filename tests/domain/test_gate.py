"""The gate: which purposes reach which subscribers, when, and why not."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.domain.gate import (
    Cancel,
    Hold,
    Outgoing,
    Purpose,
    Reason,
    Recipient,
    Send,
    Since,
    may_send,
)
from bot.domain.quiet_hours import QuietHours, Window
from bot.domain.subscription import Status

NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)  # 10:00 in San Francisco
SF = "+14155550101"
OPEN = QuietHours(Window(time(8), time(21)))
CLOSED = QuietHours(Window(time(11), time(21)))  # opens at 11:00 in San Francisco, an hour from now


def to(status: Status, unsubscribed_at: datetime | None = None) -> Recipient:
    return Recipient(SF, "US", status, unsubscribed_at)


@pytest.mark.parametrize(
    ("purpose", "status", "verdict"),
    [
        (Purpose.REPLY, Status.UNSUBSCRIBED, Send()),
        (Purpose.REPLY, Status.NEW, Send()),
        (Purpose.CONSENT, Status.PENDING, Send()),  # the sign-up page's "Reply Y"
        (Purpose.CONSENT, Status.SUBSCRIBED, Send()),
        (Purpose.CONSENT, Status.UNSUBSCRIBED, Cancel(Reason.OPTED_OUT)),  # queued before the opt-out
        (Purpose.TRANSACTIONAL, Status.SUBSCRIBED, Send()),
        (Purpose.TRANSACTIONAL, Status.PENDING, Cancel(Reason.NOT_SUBSCRIBED)),
        (Purpose.TRANSACTIONAL, Status.UNSUBSCRIBED, Cancel(Reason.OPTED_OUT)),
        (Purpose.MARKETING, Status.SUBSCRIBED, Send()),
        (Purpose.MARKETING, Status.PENDING, Cancel(Reason.NOT_SUBSCRIBED)),
        (Purpose.MARKETING, Status.NEW, Cancel(Reason.NOT_SUBSCRIBED)),
        (Purpose.MARKETING, Status.UNSUBSCRIBED, Cancel(Reason.OPTED_OUT)),
        (Purpose.PERSON, Status.PENDING, Send()),
        (Purpose.PERSON, Status.UNSUBSCRIBED, Cancel(Reason.OPTED_OUT)),
    ],
)
def test_each_purpose_reaches_the_statuses_it_may(purpose: Purpose, status: Status, verdict: object) -> None:
    queued = NOW - timedelta(minutes=5)
    assert (
        may_send(Outgoing(purpose, queued), to(status, NOW - timedelta(minutes=1)), Since(), OPEN, NOW)
        == verdict
    )


def test_the_confirmation_of_an_opt_out_reaches_them_and_nothing_queued_before_it_does() -> None:
    left = NOW - timedelta(seconds=1)
    confirmation = Outgoing(Purpose.CONSENT, left)
    earlier = Outgoing(Purpose.CONSENT, left - timedelta(seconds=1))
    gone = to(Status.UNSUBSCRIBED, left)
    assert may_send(confirmation, gone, Since(), OPEN, NOW) == Send()
    assert may_send(earlier, gone, Since(), OPEN, NOW) == Cancel(Reason.OPTED_OUT)


def test_quiet_hours_hold_marketing_only_until_the_window_opens() -> None:
    opens = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)
    assert may_send(Outgoing(Purpose.MARKETING, NOW), to(Status.SUBSCRIBED), Since(), CLOSED, NOW) == Hold(
        opens
    )
    for purpose in (Purpose.TRANSACTIONAL, Purpose.CONSENT, Purpose.REPLY, Purpose.PERSON):
        assert may_send(Outgoing(purpose, NOW), to(Status.SUBSCRIBED), Since(), CLOSED, NOW) == Send()


def test_smart_sending_cancels_marketing_within_the_window_of_another() -> None:
    day = timedelta(hours=24)
    message = Outgoing(Purpose.MARKETING, NOW, smart_sending=day)
    recent = Since(other_marketing=NOW - timedelta(hours=23))
    older = Since(other_marketing=NOW - timedelta(hours=25))
    assert may_send(message, to(Status.SUBSCRIBED), recent, OPEN, NOW) == Cancel(Reason.SMART_SENDING)
    assert may_send(message, to(Status.SUBSCRIBED), older, OPEN, NOW) == Send()
    without = Outgoing(Purpose.MARKETING, NOW)  # a flow's step: no smart sending of its own
    assert may_send(without, to(Status.SUBSCRIBED), recent, OPEN, NOW) == Send()


def test_a_run_whose_exit_event_came_sends_nothing_more_whatever_its_purpose_or_the_hour() -> None:
    exited = Since(exited=True)
    for purpose in (Purpose.MARKETING, Purpose.TRANSACTIONAL):
        for quiet in (OPEN, CLOSED):
            verdict = may_send(Outgoing(purpose, NOW), to(Status.SUBSCRIBED), exited, quiet, NOW)
            assert verdict == Cancel(Reason.EXITED)


def test_an_opt_out_wins_over_everything_else() -> None:
    both = Since(exited=True, other_marketing=NOW)
    message = Outgoing(Purpose.MARKETING, NOW, smart_sending=timedelta(hours=24))
    assert may_send(message, to(Status.UNSUBSCRIBED, NOW), both, CLOSED, NOW) == Cancel(Reason.OPTED_OUT)
