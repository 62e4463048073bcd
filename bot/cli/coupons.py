"""smsbot coupons load POOL FILE | smsbot coupons list: the pools of unique codes messages draw from.

A store exports its generated codes one a line (Shopify's bulk export: a CSV headed "Code"); they
are loaded into a pool the program declares under `coupons:`. Loading the same file again adds
nothing; a code already given stays with whom it was given to.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli.options import (
    _settings,
    config_option,
    echo_found,
    json_option,
    load_program_or_exit,
    read_database,
    write_database,
)
from bot.domain.coupons import read_codes
from bot.pipeline import coupons as pools


@click.group("coupons")
def coupons_group() -> None:
    """Pools of unique coupon codes: {{ coupon("pool") }} gives each recipient their own."""


@coupons_group.command("load")
@config_option
@click.argument("pool")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@json_option
def load(config: Path | None, pool: str, file: Path, as_json: bool) -> None:
    """Load the codes in FILE (one a line, or a store's CSV export) into POOL."""
    settings = _settings(config)
    program = load_program_or_exit(settings)
    if pool not in program.coupons:
        known = ", ".join(sorted(program.coupons)) or "none"
        raise click.ClickException(f"no pool {pool!r} under coupons: in the program (declared: {known})")
    try:
        with file.open(encoding="utf-8-sig") as lines:
            codes, problems = read_codes(lines)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 text ({exc.reason}): nothing loaded") from exc
    if problems:
        for line, problem in problems:
            click.echo(f"{file}:{line}: {problem}", err=True)
        raise click.ClickException(f"{len(problems)} lines are wrong: nothing loaded")
    done = write_database(settings, pools.load, pool, codes, datetime.now(UTC))
    count = read_database(settings, pools.counts, [pool])[pool]
    echo_found({**dataclasses.asdict(done), "pool": pool, "left": count.left}, as_json)


@coupons_group.command("list")
@config_option
@json_option
def list_pools(config: Path | None, as_json: bool) -> None:
    """Each pool: codes loaded, given, redeemed and left, and whether that is under its low_at."""
    settings = _settings(config)
    program = load_program_or_exit(settings)
    found = read_database(settings, pools.counts, list(program.coupons))
    echo_found(
        {
            name: {
                "loaded": c.loaded,
                "given": c.given,
                "redeemed": c.redeemed,
                "left": c.left,
                "low": c.left < program.coupons[name].low_at,
            }
            for name, c in sorted(found.items())
        },
        as_json,
    )
