"""`smsbot check` catches each mistake that costs money or breaks the law, naming file and line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import ROOT

PROGRAM = """program:
  name: Acme Alerts
  brand: Acme
  help_contact: help@acme.example
  frequency: Up to 4 msgs/month
properties:
  first_name: text
  interests: {type: list, choices: [shoes, events]}
keywords:
"""  # keywords start on line 10
GOOD_REPLY = (
    "Acme Alerts: Thanks! Up to 4 msgs/month. Msg&data rates may apply. Reply HELP for help, STOP to opt out."
)


def write(tmp_path: Path, keywords: str) -> Path:
    folder = tmp_path / "keywords"
    folder.mkdir(exist_ok=True)
    (folder / "program.yaml").write_text(PROGRAM + keywords)
    (tmp_path / "config.yaml").write_text("keywords: keywords\n")
    return folder


def errors(tmp_path: Path, keywords: str) -> list[str]:
    with pytest.raises(FileProblems) as caught:
        load_program(write(tmp_path, keywords))
    return [str(p) for p in caught.value.problems if p.severity == "error"]


def check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(tmp_path / "config.yaml"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_same_word_in_two_keywords_after_folding(tmp_path: Path) -> None:
    found = errors(tmp_path, "  UNETE: {}\n  JOIN:\n    also: [ÚNETE]\n")
    assert found == [
        f"{tmp_path}/keywords/program.yaml:12: JOIN: 'ÚNETE' is already a word of keyword UNETE "
        f"({tmp_path}/keywords/program.yaml:10)"
    ]


def test_a_keyword_that_is_a_reserved_compliance_word(tmp_path: Path) -> None:
    found = errors(tmp_path, "  JOIN:\n    also: [Unsubscribe]\n")
    assert found == [
        f"{tmp_path}/keywords/program.yaml:11: JOIN: 'Unsubscribe' is reserved for compliance (opt_out); "
        "choose another word"
    ]


def test_a_message_with_an_undeclared_property(tmp_path: Path) -> None:
    found = errors(tmp_path, f"  JOIN:\n    reply: 'Hi {{{{ nickname }}}}! {GOOD_REPLY}'\n")
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path}/keywords/program.yaml:11: keywords.JOIN.reply: uses nickname,")


def test_a_keyword_setting_an_undeclared_property(tmp_path: Path) -> None:
    found = errors(tmp_path, "  EVENTS:\n    type: preference\n    add: {hobbies: events}\n")
    assert found == [
        f"{tmp_path}/keywords/program.yaml:12: EVENTS: add hobbies: no such property; declare it under properties:"
    ]


def test_a_value_outside_the_declared_choices(tmp_path: Path) -> None:
    found = errors(tmp_path, "  EVENTS:\n    type: preference\n    add: {interests: concerts}\n")
    assert found == [
        f"{tmp_path}/keywords/program.yaml:12: EVENTS: interests: 'concerts' is not one of shoes, events"
    ]


@pytest.mark.parametrize(
    ("reply", "lacks"),
    [
        (
            "Thanks! Up to 4 msgs/month. Msg&data rates may apply. Reply HELP for help, STOP to opt out.",
            "program name",
        ),
        (
            "Acme Alerts: Thanks! Msg&data rates may apply. Reply HELP for help, STOP to opt out.",
            "message frequency",
        ),
        (
            "Acme Alerts: Thanks! Up to 4 msgs/month. Reply HELP for help, STOP to opt out.",
            "Msg&data rates may apply",
        ),
        (
            "Acme Alerts: Thanks! Up to 4 msgs/month. Msg&data rates may apply. Reply STOP to opt out.",
            "(HELP)",
        ),
        ("Acme Alerts: Thanks! Up to 4 msgs/month. Msg&data rates may apply. Reply HELP for help.", "(STOP)"),
    ],
)
def test_an_opt_in_confirmation_without_what_the_ctia_requires(
    tmp_path: Path, reply: str, lacks: str
) -> None:
    found = errors(tmp_path, f"  JOIN:\n    reply: '{reply}'\n")
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path}/keywords/program.yaml:11: JOIN: the opt-in confirmation lacks")
    assert lacks in found[0] and "CTIA" in found[0]


def test_tags_count_as_the_program_name_and_frequency(tmp_path: Path) -> None:
    reply = "{{ program }}: Thanks! {{ frequency }}. Msg & data rates may apply. Reply HELP for help, STOP to opt out."
    assert load_program(write(tmp_path, f"  JOIN:\n    reply: '{reply}'\n")).program.keywords["JOIN"]


def test_encoding_and_segments_of_every_message_naming_what_forces_ucs2(tmp_path: Path) -> None:
    curly = GOOD_REPLY.replace("Thanks!", "You’re in 👟!")
    loaded = load_program(
        write(tmp_path, f"  JOIN:\n    reply: '{curly}'\n  EVENTS:\n    type: preference\n    reply: ok\n")
    )
    notes = [str(n) for n in loaded.warnings]
    assert (
        f"{tmp_path}/keywords/program.yaml:11: warning: keywords.JOIN.reply: UCS-2, 2 segments; " in notes[0]
    )
    assert "'’' (U+2019)" in notes[0] and "'👟' (U+1F45F)" in notes[0]
    assert notes[1] == f"{tmp_path}/keywords/program.yaml:14: info: keywords.EVENTS.reply: GSM-7, 1 segment"


def test_a_keyword_one_letter_from_a_compliance_word_is_flagged(tmp_path: Path) -> None:
    loaded = load_program(write(tmp_path, "  SHOP: {}\n"))
    assert any("SHOP is one letter from STOP" in str(w) for w in loaded.warnings)
    assert loaded.program.typos is not None and loaded.program.typos.match("stpo") is None


def test_check_exits_1_with_file_and_line_and_json_for_machines(tmp_path: Path) -> None:
    write(tmp_path, "  JOIN:\n    reply: hi\n  HELP: {}\n")
    result = check(tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path}/keywords/program.yaml:11: JOIN: the opt-in confirmation lacks" in result.stderr
    assert f"{tmp_path}/keywords/program.yaml:12: HELP: 'HELP' is reserved" in result.stderr
    machine = json.loads(check(tmp_path, "--json").stdout)
    assert machine["ok"] is False
    assert {(p["line"], p["severity"]) for p in machine["problems"]} >= {(11, "error"), (12, "error")}


def test_check_exits_0_with_warnings(tmp_path: Path) -> None:
    write(tmp_path, f"  JOIN:\n    reply: '{GOOD_REPLY.replace('Thanks', 'Thanks 🎉')}'\n")
    result = check(tmp_path)
    assert result.returncode == 0
    assert "1 warnings" in result.stdout and "UCS-2" in result.stdout


def test_a_colon_in_unquoted_text_gets_a_hint(tmp_path: Path) -> None:
    found = errors(tmp_path, "  EVENTS:\n    type: preference\n    reply: Acme: got it\n")
    assert found == [
        f"{tmp_path}/keywords/program.yaml:12: YAML syntax: mapping values are not allowed in this context "
        '(a ": " inside a text? put the whole text in quotes)'
    ]


def test_segments_are_counted_for_every_language_and_missing_translations_are_listed(tmp_path: Path) -> None:
    folder = write(
        tmp_path, "  EVENTS:\n    type: preference\n    reply:\n      en: Got it\n      es: ¡Listo, sí!\n"
    )
    text = (
        (folder / "program.yaml")
        .read_text()
        .replace(
            "  frequency: Up to 4 msgs/month\n",
            "  frequency: Up to 4 msgs/month\n  languages: [en, es, fr]\n",
        )
    )
    (folder / "program.yaml").write_text(text)
    notes = [str(n) for n in load_program(folder).warnings]
    assert f"{folder}/program.yaml:14: info: keywords.EVENTS.reply.en: GSM-7, 1 segment" in notes
    # UCS-2 that still fits one segment costs nothing more: a note, not a warning
    assert any(
        n.startswith(f"{folder}/program.yaml:15: info: keywords.EVENTS.reply.es: UCS-2, 1 segment")
        and "'í'" in n
        for n in notes
    )
    assert any("keywords.EVENTS.reply: no fr translation; it will get the en text" in n for n in notes)


def test_a_spanish_confirmation_is_checked_in_spanish(tmp_path: Path) -> None:
    reply = (
        "{en: '"
        + GOOD_REPLY
        + "', es: 'Acme Alerts: Gracias. Up to 4 msgs/month. Responde AYUDA para ayuda.'}"
    )
    found = errors(tmp_path, f"  JOIN:\n    reply: {reply}\n")
    assert len(found) == 1
    assert "JOIN: the opt-in confirmation lacks" in found[0]
    assert '"Pueden aplicarse tarifas de mensajes y datos"' in found[0] and "(ALTO or STOP)" in found[0]
