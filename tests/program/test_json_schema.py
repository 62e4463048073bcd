"""The keyword program's JSON Schema: the one shipped beside the YAML is the one `smsbot schema`
writes today, every shipped file passes it, and it refuses the keys `smsbot check` refuses."""

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from bot.program.json_schema import EDITOR_LINE, SCHEMA_FILE, program_schema, schema_text
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import KEYWORDS

VALIDATOR = Draft202012Validator(program_schema())


def test_the_shipped_schema_is_the_one_smsbot_writes_today() -> None:
    assert (KEYWORDS / SCHEMA_FILE).read_text() == schema_text()  # after an edit: smsbot schema > it


@pytest.mark.parametrize("path", sorted(KEYWORDS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_file_names_the_schema_and_passes_it(path: Path) -> None:
    text = path.read_text()
    assert text.splitlines()[0] == EDITOR_LINE
    assert list(VALIDATOR.iter_errors(yaml.safe_load(text))) == []


@pytest.mark.parametrize(
    "yaml_text",
    [
        "keywords:\n  JOIN:\n    replly: hi\n",  # a misspelt key
        "keywords:\n  JOIN:\n    type: subscribe\n",  # not one of the kinds
        "campaigns:\n  a: {segment: vip}\n",  # a required key missing
        "coupons:\n  sale: {low_at: -1}\n",  # out of range
        "programme: {}\n",  # an unknown section
    ],
)
def test_the_schema_refuses_what_check_refuses(keywords_copy: Path, yaml_text: str) -> None:
    assert list(VALIDATOR.iter_errors(yaml.safe_load(yaml_text)))
    (keywords_copy / "more.yaml").write_text(yaml_text)
    with pytest.raises(FileProblems):
        load_program(keywords_copy)
