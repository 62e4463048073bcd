"""What every command shares: the --config option and reading settings, with file:line errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bot.program.yamlfile import FileProblems
from bot.settings import Settings, load_settings


def _report(exc: FileProblems) -> None:
    for problem in exc.problems:
        if problem.severity != "info":
            click.echo(str(problem), err=True)


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, **overrides)
    except FileProblems as exc:
        _report(exc)
        sys.exit(1)


config_option = click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="config file (default: config.yaml)",
)
