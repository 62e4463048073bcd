"""smsbot campaign preview | send | pause | resume | cancel | retry | status | report NAME."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

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
from bot.domain.campaigns import Campaign
from bot.domain.model import Program
from bot.pipeline import campaign_reports, campaigns
from bot.program.yamlfile import Problem
from bot.settings import Settings

T = TypeVar("T")


@click.group()
def campaign() -> None:
    """Campaigns: try one (preview), send it, follow it (status, report), stop it."""


def _campaign(program: Program, name: str) -> Campaign:
    found = program.campaigns.get(name)
    if found is None:
        known = ", ".join(sorted(program.campaigns)) or "none"
        raise click.ClickException(f"no campaign {name} in the program (campaigns: {known})")
    return found


def _write(settings: Settings, change: Callable[..., T], *args: Any) -> T:
    try:
        return write_database(settings, change, *args)
    except campaigns.CampaignProblem as exc:
        raise click.ClickException(str(exc)) from None


def _read(settings: Settings, query: Callable[..., T], *args: Any, upgrade: bool = True) -> T:
    try:
        return read_database(settings, query, *args, upgrade=upgrade)
    except campaigns.CampaignProblem as exc:
        raise click.ClickException(str(exc)) from None


def campaign_notes(settings: Settings, program: Program) -> list[Problem]:
    """For `smsbot check`, from the database when there is one (quiet otherwise): campaigns already
    sent whose YAML changed since (which changes nothing already decided), and campaigns not yet sent
    whose segment has no subscribed member."""
    from sqlalchemy import make_url

    from bot.store.db import is_sqlite

    if not program.campaigns and not program.coupons:
        return []
    where = make_url(settings.database_url).database
    if is_sqlite(settings.database_url) and not (where and Path(where).exists()):
        return []
    try:  # `check` changes nothing, the schema neither
        rounds, audiences, short = _read(settings, _sent_and_audiences, program, upgrade=False)
    except Exception:  # no database to ask (not migrated, not reachable): nothing to say
        return []
    empty = [name for name, count in audiences.items() if count == 0]
    return [*_edited(program, rounds), *_unreachable(program, empty), *short]


def _sent_and_audiences(conn: Any, program: Program) -> tuple[list[Any], dict[str, int], list[Problem]]:
    """The campaigns' rounds sent; each campaign not yet sent, its audience now; and a warning for
    each of those whose coupon pool has fewer codes left than it has recipients."""
    from sqlalchemy import func, select

    from bot.store.schema import campaigns as table
    from bot.store.schema import subscribers

    query = select(table.c.name, table.c.fingerprint, table.c.status, table.c.started_at)
    rounds = list(conn.execute(query.where(table.c.name.in_(list(program.campaigns)))).all())
    sent = {row.name for row in rounds}
    now = datetime.now(UTC)
    audiences = {
        name: int(
            conn.execute(
                select(func.count())
                .select_from(subscribers)
                .where(campaigns.audience_where(chosen, program, conn.dialect.name, now))
            ).scalar_one()
        )
        for name, chosen in program.campaigns.items()
        if name not in sent
    }
    short = [
        Problem(*program.campaigns[name].defined_at, f"campaign {name}: {said}", "warning")
        for name, count in audiences.items()
        for said in campaign_reports.short_pools(conn, program.campaigns[name], program, count)
        if count
    ]
    return rounds, audiences, short + _low_pools(conn, program)


def _low_pools(conn: Any, program: Program) -> list[Problem]:
    """A warning for each coupon pool with fewer codes left than its `low_at`."""
    from bot.pipeline import coupons

    watched = [pool for pool in program.coupons.values() if pool.low_at]
    left = coupons.counts(conn, [pool.name for pool in watched]) if watched else {}
    return [
        Problem(
            *pool.defined_at,
            f"coupons.{pool.name}: {left[pool.name].left} codes left, fewer than low_at "
            f"({pool.low_at}): smsbot coupons load {pool.name} FILE",
            "warning",
        )
        for pool in watched
        if left[pool.name].left < pool.low_at
    ]


def _edited(program: Program, rounds: list[Any]) -> list[Problem]:
    problems = []
    latest = {row.name: row for row in sorted(rounds, key=lambda row: row.started_at)}
    for name, row in latest.items():
        chosen = program.campaigns[name]
        if row.fingerprint != chosen.fingerprint:
            file, line = chosen.defined_at
            said = (
                f"campaign {name} was sent on {row.started_at:%Y-%m-%d %H:%M} UTC ({row.status}): this "
                "edit changes nothing it sent or is sending; to send the new text, "
                f"smsbot campaign send {name} --again"
            )
            problems.append(Problem(file, line, said, "warning"))
    return problems


def _unreachable(program: Program, empty: list[str]) -> list[Problem]:
    return [
        Problem(
            *program.campaigns[name].defined_at,
            f"campaign {name}: segment {program.campaigns[name].segment} has no subscribed member now; "
            "sent today it would reach nobody",
            "warning",
        )
        for name in empty
    ]


@campaign.command()
@config_option
@click.argument("name")
@json_option
def preview(config: Path | None, name: str, as_json: bool) -> None:
    """Who would get it and what they would read; nothing is sent."""
    settings = _settings(config)
    program = load_program_or_exit(settings)
    chosen = _campaign(program, name)
    now = datetime.now(UTC)
    found = _read(
        settings,
        campaign_reports.preview,
        chosen,
        program,
        now,
        settings.short_link_base,
        settings.price_per_segment,
        settings.currency,
    )
    shown = dataclasses.asdict(found)
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    samples, warnings = shown.pop("samples"), shown.pop("warnings")
    echo_found(shown, as_json=False)
    for sample in samples:
        click.echo(f"\n{sample['phone']} ({sample['language']}):\n  {sample['message']}")
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo("\nnothing was sent; to send: smsbot campaign send " + name)


@campaign.command()
@config_option
@click.argument("name")
@click.option("--again", is_flag=True, help="send a campaign sent before to its audience again (a new round)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def send(config: Path | None, name: str, again: bool, yes: bool) -> None:
    """Fix the audience now and start sending (the worker sends, at the number's rate)."""
    settings = _settings(config)
    program = load_program_or_exit(settings)
    chosen = _campaign(program, name)
    now = datetime.now(UTC)
    if not yes:
        found = _read(
            settings,
            campaign_reports.preview,
            chosen,
            program,
            now,
            settings.short_link_base,
            settings.price_per_segment,
            settings.currency,
        )
        click.echo(
            f"{name}: {found.recipients:,} recipients, about {found.billed_segments:,} segments "
            f"({found.estimated_cost:,.2f} {found.currency})"
        )
        click.confirm("send it now?", abort=True)
    started = _write(settings, _start, chosen, program, settings.quiet_hours, now, again)
    click.echo(f"{name}: sending to {started.audience:,} recipients (round {started.round})")


def _start(
    conn: Any, chosen: Campaign, program: Program, quiet: Any, now: datetime, again: bool
) -> campaigns.Started:
    return campaigns.start(conn, chosen, program, quiet, now, "cli", again=again)


def _change(config: Path | None, name: str, change: Callable[..., Any], done: str) -> None:
    _write(_settings(config), change, name, datetime.now(UTC))
    click.echo(f"{name}: {done}")


@campaign.command()
@config_option
@click.argument("name")
def pause(config: Path | None, name: str) -> None:
    """Stop sending for now; what is not yet with the carrier waits."""
    _change(config, name, campaigns.pause, "paused; smsbot campaign resume to go on")


@campaign.command()
@config_option
@click.argument("name")
def resume(config: Path | None, name: str) -> None:
    """Go on sending a paused campaign."""
    _change(config, name, campaigns.resume, "sending again")


@campaign.command()
@config_option
@click.argument("name")
def cancel(config: Path | None, name: str) -> None:
    """Stop for good: whoever has not been sent it will not be."""
    _change(config, name, campaigns.cancel, "cancelled")


@campaign.command()
@config_option
@click.argument("name")
@click.argument("variant", required=False)
@click.option(
    "--none", "no_winner", is_flag=True, help="Send no winner: the rest of the audience gets nothing."
)
def winner(config: Path | None, name: str, variant: str | None, no_winner: bool) -> None:
    """Pick an A/B test's winner by hand (a, b, c or d): the rest of the audience gets it now."""
    if (variant is None) == (not no_winner):
        raise click.UsageError("give a VARIANT (a, b, c, d) or --none")
    settings = _settings(config)
    _write(settings, campaigns.pick_winner, name, variant, datetime.now(UTC))
    click.echo(
        f"{name}: "
        + (f"variant {variant} goes to the rest" if variant else "no winner: the rest get nothing")
    )


@campaign.command()
@config_option
@click.argument("name")
def retry(config: Path | None, name: str) -> None:
    """Send again to the recipients whose message failed."""
    settings = _settings(config)
    count = _write(settings, campaigns.retry_failed, name, datetime.now(UTC))
    click.echo(f"{name}: {count} failed recipients queued again")


@campaign.command()
@config_option
@click.argument("name")
@json_option
def status(config: Path | None, name: str, as_json: bool) -> None:
    """Where sending stands: each recipient's outcome, counted."""
    settings = _settings(config)
    echo_found(_read(settings, campaign_reports.status, name), as_json)


@campaign.command()
@config_option
@click.argument("name")
@json_option
def report(config: Path | None, name: str, as_json: bool) -> None:
    """Sent, delivered, failed by error code, clicks, click rate (unique clickers / delivered), opt-outs."""
    settings = _settings(config)
    echo_found(_read(settings, campaign_reports.report, name), as_json)
