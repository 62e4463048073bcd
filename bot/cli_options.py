"""What every command shares: the --config option and reading settings, with file:line errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bot.domain.model import Program
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


def load_program_or_exit(settings: Settings) -> Program:
    """The keyword program, or its problems on stderr and exit 1."""
    from bot.program.loader import load_program

    try:
        return load_program(settings.keywords_dir, settings.short_link_base).program
    except FileProblems as exc:
        _report(exc)
        sys.exit(1)
