"""What every command shares: the --config option, reading settings and the program with file:line
errors, and one short visit to the database."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.domain.model import Program
from bot.program.yamlfile import FileProblems
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


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


json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")
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


def with_database(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]], upgrade: bool = True) -> T:
    """`work` on an engine opened for it (the schema migrated first, unless `upgrade` is False)."""
    from bot.store import db

    async def run() -> T:
        engine = db.create_engine(settings.database_url)
        try:
            if upgrade:
                await db.upgrade(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def read_database(settings: Settings, query: Callable[..., T], *args: Any, upgrade: bool = True) -> T:
    """`query(conn, *args)` on one connection."""

    async def work(engine: AsyncEngine) -> T:
        async with engine.connect() as conn:
            return await conn.run_sync(query, *args)

    return with_database(settings, work, upgrade)


def write_database(settings: Settings, change: Callable[..., T], *args: Any) -> T:
    """`change(conn, *args)` in one write transaction (behind the SQLite writers' lock, like the
    server's)."""
    from bot.store.db import WriteTransactions

    async def work(engine: AsyncEngine) -> T:
        transactions = WriteTransactions(engine, settings.database_url, name="cli-db")
        try:
            return await transactions.run(change, *args)
        finally:
            transactions.close()

    return with_database(settings, work)


def echo_found(found: dict[str, Any], as_json: bool) -> None:
    """A report: as JSON, or a line per figure (a mapping's entries indented under it)."""
    if as_json:
        click.echo(json.dumps(found, indent=2, default=str))
        return
    for key, value in found.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for inner, count in value.items():
                click.echo(f"  {inner:<28} {count}")
        else:
            click.echo(f"{key:<16} {value}")
