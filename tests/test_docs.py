"""The documentation: the README a front door under 15 KB with the two commands; the configuration
reference generated from the settings (defaults from the model), naming every setting the settings
read and nothing they do not, so the two cannot drift apart; the site itself is built with --strict
by `make docs` (a broken link fails it)."""

import re
from typing import Any

from pydantic import BaseModel

from bot.settings import ConfigFile
from bot.settings_reference import with_reference
from tests.conftest import ROOT

REFERENCE = ROOT / "docs" / "configuration.md"
# Read by the command line itself, not by the settings model.
ELSEWHERE = {"SMSBOT_LOG_FORMAT": ROOT / "bot" / "cli" / "__init__.py"}


def config_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key config.yaml may set: a section's fields, a nested window as one key."""
    found = set()
    for name, field in model.model_fields.items():
        kind: Any = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel) and not prefix:
            found |= config_keys(kind, f"{name}.")
        else:
            found.add(prefix + name)
    return found


def documented_keys(text: str) -> set[str]:
    keys = set()
    for row in text.splitlines():
        cells = row.split("|")
        if row.startswith("|") and len(cells) > 3:
            keys |= set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)?)`", cells[2]))
    return keys


def test_the_reference_on_the_page_is_the_one_generated_from_the_settings_today() -> None:
    page = REFERENCE.read_text()
    assert page == with_reference(page), (
        "run: .venv/bin/python -m bot.settings_reference docs/configuration.md"
    )


def test_the_reference_names_every_config_key_and_only_those() -> None:
    assert documented_keys(REFERENCE.read_text()) == config_keys(ConfigFile)


def test_the_reference_names_every_environment_variable_read_and_only_those() -> None:
    read = set(re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "bot" / "settings.py").read_text()))
    read |= {name for name, where in ELSEWHERE.items() if name in where.read_text()}
    table = [row.split("|")[1] for row in REFERENCE.read_text().splitlines() if row.startswith("| `")]
    documented = {name for cell in table for name in re.findall(r"`([A-Z_]+)`", cell)}
    assert documented == read


def test_the_readme_is_a_front_door_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) < 15_000
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first_block = quick.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "run"],
        ["make", "test"],
    ]
    linked = set(re.findall(r"\]\(docs/([a-z-]+\.md)\)", readme))
    assert linked and all((ROOT / "docs" / page).exists() for page in linked)
