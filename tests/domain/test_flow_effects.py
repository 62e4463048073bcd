"""What flow actions do, decided once for the webhook (`decide`) and the worker (`step_due`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.conversation import decide, step_due
from bot.domain.flow_effects import FlowEffects
from bot.domain.flow_runner import RunState, Send, SendCard, SetProperty, StartFlow
from bot.domain.inbound import InboundMessage
from bot.domain.model import Program
from bot.domain.outcome import Flows, Policy
from bot.domain.subscription import Status
from bot.domain.voice import SubscriberState
from bot.program.loader import load_program

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ANA = SubscriberState("+14155550123", Status.SUBSCRIBED, opt_in_source="JOIN", opt_in_keyword="JOIN")
ELLA = SubscriberState("+447700900123", Status.SUBSCRIBED, opt_in_source="JOIN", opt_in_keyword="JOIN")
POLICY = Policy(public_url="https://sms.example.com")
# A survey that starts itself again at its end, and a flow that starts another.
FLOWS = """
flows:
  survey:
    steps:
      - ask: "Acme Outfitters: your first name?"
        property: first_name
        timeout: 1h
      - start: survey
  later:
    steps:
      - wait: 1h
      - start: survey
      - send: "Acme Outfitters: thanks. Reply STOP to opt out."
"""


@pytest.fixture
def program(keywords_copy: Path) -> Program:
    (keywords_copy / "more-flows.yaml").write_text(FLOWS)
    return load_program(keywords_copy).program


def effects(
    program: Program, subscriber: SubscriberState = ANA, active: set[str] | None = None
) -> FlowEffects:
    return FlowEffects(subscriber, program, POLICY, NOW, subscriber.status, {}, set(active or ()))


def test_send_says_the_text_with_its_media(program: Program) -> None:
    done = effects(program)
    done.carry_out_actions((Send("Acme: hi", ("https://x.test/a.png",)),))
    assert done.said == [("Acme: hi", ("https://x.test/a.png",))]


def test_a_card_goes_by_mms_in_the_us_and_as_a_link_in_the_uk(program: Program) -> None:
    us, uk = effects(program), effects(program, ELLA)
    us.carry_out_actions((SendCard("acme"),))
    uk.carry_out_actions((SendCard("acme"),))
    assert us.said == [("", ("https://sms.example.com/vcards/acme.vcf",))]
    assert uk.said[0][1] == () and "https://sms.example.com/vcards/acme.vcf" in uk.said[0][0]


def test_a_set_property_is_seen_by_the_next_step_and_language_follows_it(program: Program) -> None:
    done = effects(program)
    done.carry_out_actions((SetProperty("first_name", "Ana"), SetProperty("language", "es")))
    assert done.current().properties["first_name"] == "Ana" and done.current().language == "es"
    assert done.updates["language_source"] == "property"


def test_start_begins_a_flow_that_is_not_running_and_never_one_that_is(program: Program) -> None:
    fresh, running = effects(program), effects(program, active={"survey"})
    fresh.carry_out_actions((StartFlow("survey"),))
    running.carry_out_actions((StartFlow("survey"),))
    assert [(r.flow, r.started) for r in fresh.runs] == [("survey", True)]
    assert fresh.runs[0].state == RunState("survey", 0, due_at=NOW)
    assert running.runs == []


def test_a_flow_starting_itself_does_nothing_whether_answered_or_timed_out(program: Program) -> None:
    asked = RunState("survey", 0, waiting=True, due_at=NOW)
    flows = Flows(frozenset({"survey"}), asked)
    message = InboundMessage("SM1", ANA.phone, "55555", "Ana", NOW)
    answered = decide(message, ANA, program, POLICY, flows)  # the webhook
    timed_out = step_due(asked, ANA, program, POLICY, flows, NOW + timedelta(hours=1))  # the worker
    for outcome in (answered, timed_out):
        assert [(r.flow, r.state, r.started) for r in outcome.runs] == [("survey", None, False)]


def test_the_worker_starts_another_flow_only_when_it_is_not_running(program: Program) -> None:
    due = RunState("later", 1, due_at=NOW)
    idle = step_due(due, ANA, program, POLICY, Flows(frozenset({"later"})), NOW)
    busy = step_due(due, ANA, program, POLICY, Flows(frozenset({"later", "survey"})), NOW)
    assert [(r.flow, r.started) for r in idle.runs] == [("survey", True), ("later", False)]
    assert [(r.flow, r.started) for r in busy.runs] == [("later", False)]
    assert idle.replies == busy.replies == ("Acme Outfitters: thanks. Reply STOP to opt out.",)


def test_no_step_runs_for_someone_no_longer_subscribed(program: Program) -> None:
    gone = SubscriberState(ANA.phone, Status.UNSUBSCRIBED)
    outcome = step_due(RunState("later", 1, due_at=NOW), gone, program, POLICY, Flows(), NOW)
    assert outcome.cancel_flows and outcome.replies == () and outcome.runs == ()
