"""The decision for one message, from each status, without any I/O."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.compliance import Intent
from bot.domain.conversation import decide
from bot.domain.inbound import InboundMessage
from bot.domain.model import Keyword, KeywordKind
from bot.domain.outcome import Outcome, Policy
from bot.domain.subscription import Action, Status
from bot.domain.voice import SubscriberState
from bot.program.loader import load_program
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DEFAULT = Policy()


def text(body: str, status: Status = Status.NEW, policy: Policy = DEFAULT, **fields: Any) -> Outcome:
    message = InboundMessage(
        message_sid="SM1", sender="+14155550123", recipient="55555", body=body, received_at=NOW
    )
    return decide(message, SubscriberState("+14155550123", status, **fields), PROGRAM, policy)


def test_join_subscribes_and_confirms_with_everything_the_ctia_asks_for() -> None:
    outcome = text("JOIN")
    assert outcome.status is Status.SUBSCRIBED
    assert outcome.updates["opt_in_keyword"] == "JOIN" and outcome.updates["opt_in_source"] == "JOIN"
    assert outcome.updates["subscribed_at"] == NOW
    reply = outcome.replies[0]  # then the welcome flow's first steps (tests/http/test_welcome_flow.py)
    for needed in ("Acme Outfitters Alerts", "6 msgs/month", "Msg&data rates may apply", "HELP", "STOP"):
        assert needed in reply
    [consent] = outcome.consent
    assert (consent.action, consent.from_status, consent.to_status) == (
        Action.OPT_IN,
        Status.NEW,
        Status.SUBSCRIBED,
    )


def test_misspelling_counts_as_the_keyword() -> None:
    assert text("jion").updates["opt_in_keyword"] == "JOIN"


@pytest.mark.parametrize("status", [Status.NEW, Status.PENDING, Status.SUBSCRIBED])
def test_stop_unsubscribes_with_one_confirmation_without_marketing(status: Status) -> None:
    outcome = text("STOP", status)
    assert outcome.status is Status.UNSUBSCRIBED
    [reply] = outcome.replies
    assert "unsubscribed" in reply and "Thanks" not in reply
    assert [c.action for c in outcome.consent] == [Action.OPT_OUT]


def test_a_second_stop_is_recorded_but_answered_with_silence() -> None:
    outcome = text("STOP", Status.UNSUBSCRIBED)
    assert outcome.intent is Intent.OPT_OUT and outcome.replies == () and outcome.consent == ()


def test_carrier_confirmations_switch_silences_our_stop_and_start_replies_only() -> None:
    policy = Policy(carrier_sends_confirmations=True)
    assert text("STOP", Status.SUBSCRIBED, policy).replies == ()
    assert text("START", Status.UNSUBSCRIBED, policy).replies == ()
    assert text("HELP", Status.UNSUBSCRIBED, policy).replies != ()
    assert text("STOP", Status.SUBSCRIBED, policy).status is Status.UNSUBSCRIBED


@pytest.mark.parametrize("status", list(Status))
def test_help_is_answered_in_every_status_and_changes_nothing(status: Status) -> None:
    outcome = text("HELP", status)
    [reply] = outcome.replies
    assert "help@acme.example" in reply and "STOP" in reply and "Msg&data rates may apply" in reply
    assert outcome.status is status and outcome.consent == ()


def test_nothing_but_help_and_a_new_opt_in_reaches_an_unsubscribed_number() -> None:
    for body in ("hello", "Y", "what's new", "🎉", ""):
        assert text(body, Status.UNSUBSCRIBED).replies == (), body
    assert text("START", Status.UNSUBSCRIBED).status is Status.SUBSCRIBED
    assert text("JOIN", Status.UNSUBSCRIBED).status is Status.SUBSCRIBED


def test_a_bare_yes_from_a_stranger_is_not_consent() -> None:
    outcome = text("YES", Status.NEW)
    assert outcome.status is Status.NEW and outcome.consent == ()
    assert "Text JOIN" in outcome.replies[0]


def test_double_opt_in_waits_for_y() -> None:
    vip = Keyword("VIP", KeywordKind.OPT_IN, ("vip",), "vip-card", double_opt_in=True)
    program = replace(PROGRAM, keywords={**PROGRAM.keywords, "VIP": vip}, index={**PROGRAM.index, "vip": vip})
    message = InboundMessage("SM1", "+14155550123", "55555", "vip", NOW)
    asked = decide(message, SubscriberState("+14155550123"), program, Policy())
    assert asked.status is Status.PENDING and "Reply Y" in asked.replies[0]
    confirm = InboundMessage("SM2", "+14155550123", "55555", "y", NOW)
    state = SubscriberState("+14155550123", Status.PENDING, opt_in_keyword="VIP", opt_in_source="vip-card")
    done = decide(confirm, state, program, Policy())
    assert done.status is Status.SUBSCRIBED
    assert [(c.action, c.source) for c in done.consent] == [(Action.OPT_IN_CONFIRMED, "vip-card")]


def test_unknown_words_get_the_fallback_only_from_subscribers() -> None:
    assert "did not understand" in text("what sizes?", Status.SUBSCRIBED).replies[0]
    assert "Text JOIN to join" in text("what sizes?", Status.NEW).replies[0]


def test_start_while_subscribed_says_so_without_a_new_consent_record() -> None:
    outcome = text("START", Status.SUBSCRIBED)
    assert outcome.consent == () and "already subscribed" in outcome.replies[0]


def test_an_opt_in_keyword_from_a_subscriber_stores_the_interest_and_acknowledges_it() -> None:
    outcome = text("SHOES", Status.SUBSCRIBED)
    assert outcome.consent == () and outcome.updates["properties"] == {"interests": ["shoes"]}
    assert outcome.replies == (
        "Acme Outfitters: Got it, we'll send you shoe news too. Reply HELP for help, STOP to opt out.",
    )
    spanish = text("SHOES", Status.SUBSCRIBED, language="es")
    assert "también te enviaremos novedades de zapatos" in spanish.replies[0]
    french = text("SHOES", Status.SUBSCRIBED, language="fr")
    assert "nouveautés chaussures" in french.replies[0]


def test_without_its_own_words_an_interest_saved_is_said_and_nothing_new_says_already_subscribed() -> None:
    shoes = PROGRAM.keywords["SHOES"]
    program = replace(
        PROGRAM,
        keywords={**PROGRAM.keywords, "SHOES": replace(shoes, already_subscribed=None)},
        index={
            word: (replace(shoes, already_subscribed=None) if k.name == "SHOES" else k)
            for word, k in PROGRAM.index.items()
        },
    )
    message = InboundMessage("SM1", "+14155550123", "55555", "shoes", NOW)
    fresh = decide(message, SubscriberState("+14155550123", Status.SUBSCRIBED), program, DEFAULT)
    assert "Got it, we saved that. You are already subscribed" in fresh.replies[0]
    again = decide(
        message,
        SubscriberState(
            "+14155550123", Status.SUBSCRIBED, language="es", properties={"interests": ["shoes"]}
        ),
        program,
        DEFAULT,
    )
    assert "properties" not in again.updates and again.replies[0].startswith(
        "Acme Outfitters: Ya estás suscrito"
    )
    assert "already subscribed" in text("JOIN", Status.SUBSCRIBED).replies[0]
