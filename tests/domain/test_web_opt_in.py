"""A sign-up page's request as a decision: always a double opt-in, never a subscription by itself."""

from datetime import UTC, datetime

import pytest

from bot.domain.conversation import web_opt_in
from bot.domain.subscription import Action, Status
from bot.domain.voice import SubscriberState
from bot.program.loader import load_program
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program
AT = datetime(2026, 11, 26, 15, tzinfo=UTC)


def person(status: Status) -> SubscriberState:
    return SubscriberState(phone="+14155550123", status=status, language=None, properties={})


@pytest.mark.parametrize("status", [Status.NEW, Status.UNSUBSCRIBED])
def test_a_request_asks_for_a_y_with_the_forms_source(status: Status) -> None:
    outcome = web_opt_in(person(status), PROGRAM, "spring", AT)
    assert outcome.status is Status.PENDING
    [change] = outcome.consent
    assert (change.action, change.source, change.keyword) == (
        Action.OPT_IN_REQUESTED,
        "web:spring",
        PROGRAM.join_word,
    )
    assert outcome.updates["opt_in_source"] == "web:spring" and outcome.updates["status"] is Status.PENDING
    [prompt] = outcome.replies
    assert "Reply Y to confirm" in prompt


def test_one_already_asked_is_asked_again_and_a_subscriber_is_sent_nothing() -> None:
    again = web_opt_in(person(Status.PENDING), PROGRAM, "spring", AT)
    assert again.consent == () and again.updates == {} and len(again.replies) == 1
    subscribed = web_opt_in(person(Status.SUBSCRIBED), PROGRAM, "spring", AT)
    assert subscribed.replies == () and subscribed.consent == () and subscribed.status is Status.SUBSCRIBED
