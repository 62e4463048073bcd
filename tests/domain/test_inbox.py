"""The inbox as the domain decides it: which texts open or join a conversation, what answers them
automatically (once), office hours, and marketing waiting for a conversation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.conversation import decide, opted_out_at_carrier
from bot.domain.gate import Hold, Outgoing, Purpose, Recipient, Send, Since, may_send
from bot.domain.inbound import InboundMessage
from bot.domain.inbox import Converse, Inbox, OfficeHours, waits_for_conversation
from bot.domain.model import Program
from bot.domain.outcome import Outcome, Policy
from bot.domain.quiet_hours import QuietHours, Window
from bot.domain.subscription import Status
from bot.domain.templates import LocalizedMessage, compile_template
from bot.domain.voice import SubscriberState
from bot.program.loader import load_program
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program  # New York time; no auto-reply in the shipped inbox.yaml
TUESDAY_NOON = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)  # 12:00 in New York
TUESDAY_NIGHT = datetime(2026, 12, 9, 3, 0, tzinfo=UTC)  # 22:00 in New York
NEW_YORK = ZoneInfo("America/New_York")


def said(text: str) -> LocalizedMessage:
    return LocalizedMessage({"en": compile_template(text)}, "en")


HOURS = OfficeHours(frozenset(range(5)), time(9), time(18))
ANSWERING = replace(
    PROGRAM,
    inbox=Inbox(
        auto_reply=said("Someone answers within the hour."),
        auto_reply_closed=said("We answer tomorrow."),
        office_hours=HOURS,
    ),
)


def text(
    body: str,
    talking: bool = False,
    status: Status = Status.SUBSCRIBED,
    at: datetime = TUESDAY_NOON,
    program: Program = PROGRAM,
) -> Outcome:
    message = InboundMessage("SM1", "+14155550123", "55555", body, at)
    return decide(
        message, SubscriberState("+14155550123", status, language="en"), program, Policy(), talking=talking
    )


def test_a_question_opens_a_conversation_and_gets_the_usual_answer_once() -> None:
    opened = text("do you have size 9?")
    assert opened.converse is Converse.OPENED and opened.replies  # the program's fallback
    joined = text("the brown ones", talking=True)
    assert joined.converse is Converse.JOINED and joined.replies == ()  # a person is on it


@pytest.mark.parametrize("body", ["HELP", "JOIN", "SHOES"])
def test_what_the_program_understands_is_not_for_a_person_and_still_answers_inside_a_conversation(
    body: str,
) -> None:
    outcome = text(body, talking=True)
    assert outcome.converse is None and outcome.replies


def test_stop_inside_a_conversation_closes_it_and_still_confirms() -> None:
    outcome = text("STOP", talking=True)
    assert outcome.converse is Converse.CLOSED and outcome.status is Status.UNSUBSCRIBED and outcome.replies
    assert text("STOP").converse is None  # no conversation to close


def test_an_opt_out_the_carrier_reports_closes_the_conversation_too() -> None:
    outcome = opted_out_at_carrier(
        SubscriberState("+14155550123", Status.SUBSCRIBED), "carrier:21610", TUESDAY_NOON
    )
    assert outcome.converse is Converse.CLOSED and outcome.status is Status.UNSUBSCRIBED


def test_an_opted_out_number_is_read_by_a_person_but_answered_by_nothing_automatic() -> None:
    outcome = text("why did I get this?", status=Status.UNSUBSCRIBED, program=ANSWERING)
    assert outcome.converse is Converse.OPENED and outcome.replies == ()


@pytest.mark.parametrize(
    ("at", "expected"),
    [(TUESDAY_NOON, "Someone answers within the hour."), (TUESDAY_NIGHT, "We answer tomorrow.")],
)
def test_the_auto_reply_follows_office_hours_in_the_programs_zone(at: datetime, expected: str) -> None:
    assert text("my order never came", program=ANSWERING, at=at).replies == (expected,)
    assert text("still nothing", talking=True, program=ANSWERING, at=at).replies == ()  # once


def test_office_hours_are_read_in_the_programs_zone_and_close_at_the_weekend() -> None:
    saturday = datetime(2026, 12, 12, 15, 0, tzinfo=UTC)  # 10:00 in New York, a Saturday
    assert HOURS.open_at(TUESDAY_NOON, NEW_YORK) and not HOURS.open_at(TUESDAY_NIGHT, NEW_YORK)
    assert not HOURS.open_at(saturday, NEW_YORK)
    assert ANSWERING.inbox.automatic(saturday, NEW_YORK) == ANSWERING.inbox.auto_reply_closed
    assert Inbox(auto_reply=said("x")).automatic(saturday, NEW_YORK) is not None  # no hours: always


def test_marketing_waits_for_a_conversation_and_a_persons_answer_does_not() -> None:
    now = TUESDAY_NOON
    until = waits_for_conversation(now - timedelta(minutes=30), timedelta(hours=2), now)
    assert until == now + timedelta(minutes=90)
    assert waits_for_conversation(now - timedelta(hours=3), timedelta(hours=2), now) is None
    assert waits_for_conversation(now, timedelta(0), now) is None  # marketing_waits: 0m
    open_all_day = QuietHours(Window(time(0), time(23, 59)))
    person = Recipient("+14155550123", "US", Status.SUBSCRIBED)
    talking = Since(talking_until=until)
    assert may_send(Outgoing(Purpose.MARKETING, now), person, talking, open_all_day, now) == Hold(until)
    assert may_send(Outgoing(Purpose.PERSON, now), person, talking, open_all_day, now) == Send()
    assert may_send(Outgoing(Purpose.TRANSACTIONAL, now), person, talking, open_all_day, now) == Send()
