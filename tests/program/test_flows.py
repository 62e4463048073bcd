"""Flows in the keyword YAML: compiled, and every mistake `smsbot check` must catch."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.flows import StepKind
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import KEYWORDS


def with_flows(folder: Path, flows: str) -> Path:
    (folder / "test-flows.yaml").write_text("flows:\n" + flows)  # beside the shipped ones
    return folder


def errors(folder: Path) -> list[str]:
    with pytest.raises(FileProblems) as caught:
        load_program(folder)
    return [str(p) for p in caught.value.problems if p.severity == "error"]


def test_the_shipped_welcome_flow_compiles_and_join_starts_it() -> None:
    program = load_program(KEYWORDS).program
    welcome = program.flows["welcome"]
    kinds = [step.kind for step in welcome.steps]
    assert kinds[:6] == [
        StepKind.SEND,
        StepKind.SEND_VCARD,
        StepKind.ASK,
        StepKind.ASK,
        StepKind.WAIT,
        StepKind.SPLIT,
    ]
    assert welcome.steps[2].property == "first_name" and welcome.steps[3].property == "birthday"
    assert welcome.steps[4].wait == timedelta(days=1)
    assert welcome.steps[5].branches == {"shoes": "shoe-fans"} and welcome.steps[5].otherwise == "everyone"
    assert program.keywords["JOIN"].flow == "welcome"


def test_an_unknown_step(keywords_copy: Path) -> None:
    found = errors(with_flows(keywords_copy, "  hello:\n    steps:\n      - sned: hi\n"))
    assert len(found) == 1 and found[0].startswith(
        f"{keywords_copy}/test-flows.yaml:4: flow hello: unknown 'sned'"
    )


def test_an_ask_for_an_undeclared_property(keywords_copy: Path) -> None:
    found = errors(
        with_flows(
            keywords_copy, "  hello:\n    steps:\n      - ask: Your shoe size?\n        property: shoe_size\n"
        )
    )
    assert found == [
        f"{keywords_copy}/test-flows.yaml:5: flow hello: ask needs property: a declared property (got 'shoe_size')"
    ]


def test_a_message_with_an_undeclared_tag(keywords_copy: Path) -> None:
    found = errors(with_flows(keywords_copy, "  hello:\n    steps:\n      - send: 'Hi {{ nickname }}'\n"))
    assert len(found) == 1 and "flows.yaml:4: flows.hello.steps.0.send: uses nickname" in found[0]


def test_an_unknown_card_flow_or_step_id(keywords_copy: Path) -> None:
    found = errors(
        with_flows(
            keywords_copy,
            (
                "  hello:\n    steps:\n      - send_vcard: nobody\n      - start: nowhere\n"
                "      - split: {on: interests, branches: {shoes: missing}}\n"
            ),
        )
    )
    assert any("flows.yaml:4: flow hello: no contact card 'nobody'" in e for e in found)
    assert any("flows.yaml:5: flow hello: starts 'nowhere', which is not a flow" in e for e in found)
    assert any(
        "flows.yaml:6: flow hello: split goes to missing, but no step has id: missing" in e for e in found
    )


def test_a_keyword_starting_an_undefined_flow(keywords_copy: Path) -> None:
    folder = keywords_copy
    (folder / "flows.yaml").unlink()
    found = errors(folder)
    assert len(found) == 1 and "JOIN: starts flow 'welcome', which is not defined" in found[0]


def test_unreachable_steps_are_flagged(keywords_copy: Path) -> None:
    loaded = load_program(
        with_flows(
            keywords_copy, "  hello:\n    steps:\n      - send: hi\n      - end\n      - send: never\n"
        )
    )
    assert any(
        "test-flows.yaml:6: warning: flow hello: step 3 can never run" in str(w) for w in loaded.warnings
    )


@pytest.mark.parametrize(
    "flows",
    [
        # a split that jumps back to itself
        "  loop:\n    steps:\n      - id: top\n        send: hi\n      - split: {on: language, branches: {en: top}}\n",
        # two flows starting each other
        "  ping:\n    steps:\n      - send: ping\n      - start: pong\n  pong:\n    steps:\n      - start: ping\n",
        # a flow starting itself
        "  again:\n    steps:\n      - send: hi\n      - start: again\n",
    ],
)
def test_a_loop_without_a_wait_is_refused(keywords_copy: Path, flows: str) -> None:
    found = errors(with_flows(keywords_copy, flows))
    assert found and all("can loop without a wait or an ask" in e for e in found)


def test_a_loop_with_a_wait_is_fine(keywords_copy: Path) -> None:
    loaded = load_program(
        with_flows(
            keywords_copy,
            (
                "  weekly:\n    steps:\n      - id: top\n        send: 'Weekly picks. Reply STOP to opt out.'\n"
                "      - wait: 7d\n      - split: {on: language, branches: {en: top}, else: top}\n"
            ),
        )
    )
    assert loaded.program.flows["weekly"].steps[1].wait == timedelta(days=7)


def test_bad_durations_are_named(keywords_copy: Path) -> None:
    found = errors(with_flows(keywords_copy, "  hello:\n    steps:\n      - wait: soon\n"))
    assert found == [
        f"{keywords_copy}/test-flows.yaml:4: flow hello: wait 'soon': expected a duration such as 10m, 2h, 1d"
    ]


def test_a_flow_that_starts_itself_is_warned_about_since_it_would_do_nothing(keywords_copy: Path) -> None:
    flows = "  again:\n    steps:\n      - send: 'Acme: hi'\n      - wait: 1d\n      - start: again\n"
    loaded = load_program(with_flows(keywords_copy, flows))
    [warning] = [str(w) for w in loaded.warnings if "start again does nothing" in w.message]
    assert warning.startswith(f"{keywords_copy / 'test-flows.yaml'}:6: warning:")
