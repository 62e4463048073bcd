from pathlib import Path

import pytest

from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import KEYWORDS

PROGRAM = "program:\n  name: Acme Alerts\n  brand: Acme\n  help_contact: help@acme.example\n"


def program_dir(tmp_path: Path, keywords: str, program: str = PROGRAM) -> Path:
    (tmp_path / "program.yaml").write_text(program + keywords)
    return tmp_path


def problems(directory: Path) -> list[str]:
    with pytest.raises(FileProblems) as caught:
        load_program(directory)
    return [str(p) for p in caught.value.problems if p.severity == "error"]


def test_the_shipped_program_loads() -> None:
    program = load_program(KEYWORDS).program
    assert program.info.name == "Acme Outfitters Alerts"
    assert program.index["joinn"].name == "JOIN"
    assert program.typos is not None and program.typos.match("jion") == "JOIN"


def test_a_reserved_compliance_word_as_keyword_is_refused_with_its_line(tmp_path: Path) -> None:
    found = problems(program_dir(tmp_path, "keywords:\n  JOIN: {}\n  STOP: {}\n"))
    assert found == [
        f"{tmp_path}/program.yaml:7: STOP: 'STOP' is reserved for compliance (opt_out); choose another word"
    ]


def test_the_same_word_in_two_keywords_is_refused(tmp_path: Path) -> None:
    found = problems(program_dir(tmp_path, "keywords:\n  JOIN: {}\n  SHOES:\n    also: [Join]\n"))
    assert len(found) == 1 and "'Join' is already a word of keyword JOIN" in found[0]


def test_an_unknown_field_is_named_with_its_line(tmp_path: Path) -> None:
    found = problems(program_dir(tmp_path, "keywords:\n  JOIN:\n    replly: hi\n"))
    assert found == [
        f"{tmp_path}/program.yaml:7: keywords.JOIN.replly: is not a known setting (check the spelling)"
    ]


def test_a_missing_program_field_is_named(tmp_path: Path) -> None:
    found = problems(
        program_dir(tmp_path, "keywords:\n  JOIN: {}\n", program="program:\n  name: x\n  brand: y\n")
    )
    assert any("program.help_contact: is required but missing" in p for p in found)


def test_a_broken_template_is_named(tmp_path: Path) -> None:
    found = problems(program_dir(tmp_path, "keywords:\n  JOIN:\n    reply: 'Hi {{ first_name '\n"))
    assert len(found) == 1 and "program.yaml:7: keywords.JOIN.reply: template error" in found[0]


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    assert "no keyword files" in problems(tmp_path)[0]


def test_a_program_language_without_a_catalog_is_refused(keywords_copy: Path) -> None:
    program = keywords_copy / "program.yaml"
    program.write_text(program.read_text().replace("languages: [en, es, fr]", "languages: [en, es, fr, de]"))
    with pytest.raises(FileProblems) as caught:
        load_program(keywords_copy)
    errors = [p for p in caught.value.problems if p.severity == "error"]
    assert [p.message for p in errors if "no de catalog" in p.message]


def test_already_subscribed_belongs_to_opt_in_keywords_and_is_checked_as_a_message(tmp_path: Path) -> None:
    keywords = (
        "keywords:\n  JOIN:\n    already_subscribed: 'Hi {{ first_name '\n"
        "  ENGLISH:\n    type: language\n    language: en\n    already_subscribed: hi\n"
    )
    found = problems(program_dir(tmp_path, keywords))
    assert any("program.yaml:7: keywords.JOIN.already_subscribed: template error" in p for p in found), found
    assert any("ENGLISH: already_subscribed belongs to opt_in keywords" in p for p in found), found
