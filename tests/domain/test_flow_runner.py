"""The welcome flow, run step by step against a fixed clock, without any I/O."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.flow_runner import (
    RunState,
    Send,
    SendCard,
    SetProperty,
    StartFlow,
    advance,
    answer,
    timed_out,
)
from bot.domain.subscription import Status
from bot.domain.voice import SubscriberState
from bot.program.loader import load_program
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program
NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ANA = SubscriberState("+14155550123", Status.SUBSCRIBED, opt_in_source="JOIN", opt_in_keyword="JOIN")


def start() -> tuple[RunState, list[object]]:
    done = advance(PROGRAM, RunState("welcome", 0), ANA, NOW)
    assert done.state is not None
    return done.state, list(done.actions)


def test_the_flow_greets_sends_the_card_and_asks_the_first_question() -> None:
    state, actions = start()
    assert [type(a) for a in actions] == [Send, SendCard, Send]
    assert "Welcome!" in actions[0].text and actions[1] == SendCard("acme")  # type: ignore[attr-defined]
    assert actions[2] == Send("What's your first name?")
    assert state == RunState("welcome", 2, waiting=True, due_at=NOW + timedelta(days=1))


def test_answers_land_as_typed_properties_and_the_next_question_follows() -> None:
    state, _ = start()
    done = answer(PROGRAM, state, ANA, "  Ana ", NOW)
    assert done.actions[0] == SetProperty("first_name", "Ana")
    assert "birthday" in done.actions[1].text  # type: ignore[union-attr]
    assert done.state is not None and done.state.step == 3 and done.state.waiting
    birthday = answer(PROGRAM, done.state, ANA, "04/23", NOW)
    assert birthday.actions == (SetProperty("birthday", "--04-23"),)
    assert birthday.state == RunState("welcome", 5, due_at=NOW + timedelta(days=1))  # the wait: a day


def test_an_invalid_answer_is_asked_again_once_then_the_flow_moves_on() -> None:
    state = RunState("welcome", 3, waiting=True, due_at=NOW + timedelta(days=1))
    again = answer(PROGRAM, state, ANA, "the 45th of Smarch", NOW)
    assert again.actions == (Send("Please send your birthday as MM/DD, for example 04/23."),)
    assert again.state is not None and again.state.asked_again and again.state.waiting
    gave_up = answer(PROGRAM, again.state, ANA, "still no", NOW)
    assert gave_up.actions == () and gave_up.state == RunState("welcome", 5, due_at=NOW + timedelta(days=1))


def test_a_question_without_an_answer_in_time_is_given_up() -> None:
    state, _ = start()
    done = timed_out(PROGRAM, state, ANA, NOW + timedelta(days=1))
    assert "birthday" in done.actions[0].text  # type: ignore[union-attr]
    assert done.state is not None and done.state.step == 3


def test_a_day_later_the_message_differs_for_subscribers_interested_in_shoes() -> None:
    later = NOW + timedelta(days=1)
    waiting = RunState("welcome", 5, due_at=later)
    fan = replace(ANA, properties={"first_name": "Ana", "interests": ["events", "shoes"]})
    shoes = advance(PROGRAM, waiting, fan, later)
    assert shoes.state is None
    assert shoes.actions == (
        Send("Acme Outfitters: Ana, new running shoes just landed. Reply STOP to opt out."),
    )
    other = advance(PROGRAM, waiting, replace(ANA, properties={"interests": ["events"]}), later)
    assert other.actions == (
        Send("Acme Outfitters: Hi, this week's picks are in store now. Reply STOP to opt out."),
    )


def test_a_spanish_subscriber_gets_the_spanish_questions() -> None:
    spanish = advance(PROGRAM, RunState("welcome", 0), replace(ANA, language="es"), NOW)
    assert spanish.actions[-1] == Send("¿Cómo te llamas?")


def test_a_flow_removed_from_the_program_stops_quietly() -> None:
    assert advance(PROGRAM, RunState("gone", 0), ANA, NOW).state is None


def test_start_and_split_on_built_in_values(keywords_copy: Path) -> None:
    folder = keywords_copy
    (folder / "more.yaml").write_text(
        "flows:\n  by-country:\n    steps:\n      - split: {on: country, branches: {CA: canada}}\n"
        "      - send: Hello US\n      - end\n      - id: canada\n        send: Hello Canada\n      - start: welcome\n"
        "  at-ten:\n    steps:\n      - wait: {until: '10:00'}\n      - send: Ten o'clock\n"
    )
    program = load_program(folder).program
    canadian = replace(ANA, phone="+15145550123")
    done = advance(program, RunState("by-country", 0), canadian, NOW)
    assert done.actions == (Send("Hello Canada"), StartFlow("welcome")) and done.state is None
    assert advance(program, RunState("by-country", 0), ANA, NOW).actions == (Send("Hello US"),)
    # 17:00 UTC is 09:00 in San Francisco: the wait ends at 10:00 there, 18:00 UTC
    waiting = advance(program, RunState("at-ten", 0), ANA, NOW)
    assert waiting.state == RunState("at-ten", 1, due_at=datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
