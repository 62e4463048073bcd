"""smsbot subscriber export|erase PHONE: one number's data handed out or erased on request; smsbot
subscribers import FILE: a list brought in from another platform."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.options import (
    _settings,
    config_option,
    json_option,
    load_program_or_exit,
    read_database,
    with_database,
)
from bot.coord.client import redis_client
from bot.domain.inbound import BadInbound
from bot.domain.list_import import PRESETS, ImportProblem, parse_mapping
from bot.domain.phones import mask_phone, to_e164
from bot.domain.subscription import Status
from bot.pipeline.erasure import Erased
from bot.pipeline.forget import erase_and_record, forget_in_redis
from bot.pipeline.subscriber_export import export as export_document
from bot.pipeline.subscriber_import import AGAIN, Plan, Report, import_into, read_csv
from bot.pipeline.suppression import KeyMismatch, SuppressionKey, load_key
from bot.settings import Settings
from bot.store.db import WriteTransactions


@click.group()
def subscriber() -> None:
    """One subscriber's data: handed out on request (GDPR Art. 15, CCPA)."""


@subscriber.command()
@config_option
@click.argument("phone")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="write the JSON here")
def export(config: Path | None, phone: str, out: Path | None) -> None:
    """Everything held about PHONE (record, consent log, messages, clicks, events, orders,
    conversions, flow runs) as one JSON document, on standard output or in --out."""
    number = _number(phone)
    document = read_database(_settings(config), export_document, number, datetime.now(UTC))
    if document is None:
        raise click.ClickException(f"nothing is held about {number}")
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{out}: {sum(len(v) for v in document.values() if isinstance(v, list))} rows")


@click.group()
def subscribers() -> None:
    """The whole list: brought in from another platform."""


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_mapping(pairs)
    except ImportProblem as exc:
        raise click.BadParameter(exc.problems[0], param_hint="--map") from None


@subscribers.command(name="import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--map", "pairs", multiple=True, metavar="COLUMN=FIELD", help="what a column holds")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="the export format of a platform")
@click.option(
    "--status",
    type=click.Choice(["subscribed", "unsubscribed"]),
    help="every row's status, for a file without a status column",
)
@click.option("--country", help="the country of numbers written without one (default: store.default_country)")
@click.option("--skip-bad", is_flag=True, help="import the good rows when some are bad")
@json_option
def import_(
    config: Path | None,
    file: Path,
    pairs: tuple[str, ...],
    preset: str | None,
    status: str | None,
    country: str | None,
    skip_bad: bool,
    as_json: bool,
) -> None:
    """Bring in a list exported from another platform. Texts nobody: no welcome, no confirmation,
    no automation. Checked a batch ahead of the writing: a bad row stops it at its batch of 5,000
    (unless --skip-bad), every bad row is named, and running it again changes nothing already
    imported and finishes an import that was stopped."""
    settings = _settings(config)
    plan = Plan(
        name=file.name,
        program=load_program_or_exit(settings),
        country=(country or settings.store_country).upper(),
        now=datetime.now(UTC),
        mapping=_mapping(pairs),
        preset=preset,
        status=Status(status) if status else None,
        skip_bad=skip_bad,
    )

    try:
        key = load_key(settings)
        with _progress(file) as advance:
            report = with_database(
                settings,
                lambda engine: import_into(engine, settings.database_url, key, _lines(file), plan, advance),
            )
    except (ImportProblem, KeyMismatch) as exc:
        for problem in getattr(exc, "problems", [str(exc)]):
            click.echo(f"{file}: {problem}", err=True)
        sys.exit(1)
    _show(file, report, as_json)
    if report.bad and not report.written:
        sys.exit(1)


def _lines(file: Path) -> Iterator[list[str]]:
    """The file's rows, read as it goes (a comma, semicolon or tab between cells)."""
    return read_csv(file.open(encoding="utf-8-sig", errors="replace", newline=""))


@contextmanager
def _progress(file: Path) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal (rows written so far), nothing in a pipe or a log."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    with file.open("rb") as data:
        rows = max(sum(1 for _ in data) - 1, 0)
    with click.progressbar(length=rows, label=f"importing {file.name}", file=sys.stderr) as bar:
        yield bar.update


def _show(file: Path, report: Report, as_json: bool) -> None:
    found = report.as_dict()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for problem in found["problems"]:
        click.echo(f"{file}: {problem}", err=True)
    if report.bad > len(found["problems"]):
        click.echo(f"{file}: ... and {report.bad - len(found['problems'])} more bad rows", err=True)
    if not report.written and report.through_line:
        click.echo(
            f"{file}: stopped at line {report.stopped_at}: {report.bad} of {report.rows} rows are bad. "
            f"Lines 2-{report.through_line} were imported ({found['created']} new, {found['changed']} "
            f"consent updated, {found['filled']} filled in, {found['unchanged']} unchanged), nothing after: "
            f"{AGAIN}, or --skip-bad imports the rest"
        )
        return
    if not report.written:
        click.echo(
            f"{file}: nothing imported: {report.bad} of {report.rows} rows are bad "
            "(--skip-bad imports the rest)"
        )
        return
    click.echo(
        f"{file}: {report.rows} rows: {found['created']} new ({found['subscribed']} subscribed, "
        f"{found['unsubscribed']} not), {found['changed']} consent updated, {found['filled']} filled in, "
        f"{found['unchanged']} unchanged, {found['kept']} kept as they are, {found['erased']} erased on "
        f"request left out, {report.bad} bad. Nobody was texted."
    )
    for why, n in found["kept_because"].items():
        click.echo(f"  kept {n}: {why}")
    if report.ignored_columns:
        click.echo(f"  columns not imported: {', '.join(report.ignored_columns)}")
    if found["busy"]:
        click.echo(f"  {found['busy']} numbers texted in during the import: run it again to finish them")


@subscriber.command()
@config_option
@click.argument("phone")
@click.option("--reason", required=True, help="why, for the audit log (e.g. 'GDPR request #123')")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def erase(config: Path | None, phone: str, reason: str, yes: bool) -> None:
    """Erase everything held about PHONE (GDPR Art. 17, CCPA) and suppress the number: no import
    brings it back until the person opts in again. Counts on the dashboard keep their totals."""
    number = _number(phone)
    if not yes:
        click.confirm(f"Erase {mask_phone(number)} for good? This cannot be undone", abort=True)
    settings = _settings(config)
    who = f"cli:{getpass.getuser()}"
    try:
        key = load_key(settings)
        done, forgotten = with_database(
            settings, lambda engine: _erase(engine, settings, key, number, who, reason)
        )
    except KeyMismatch as exc:
        raise click.ClickException(str(exc)) from None
    tables = ", ".join(f"{table} {n}" for table, n in done.rows.items()) or "nothing was held"
    click.echo(f"erased {mask_phone(number)} ({tables}); suppressed: no import brings the number back")
    if not forgotten:
        click.echo("Redis was not reachable: its keys for the number expire within a day", err=True)


async def _erase(
    engine: AsyncEngine, settings: Settings, key: SuppressionKey, phone: str, who: str, why: str
) -> tuple[Erased, bool]:
    transactions = WriteTransactions(engine, settings.database_url, name="cli-db")
    try:
        done = await transactions.run(erase_and_record, key, phone, who, "cli", why, datetime.now(UTC))
    finally:
        transactions.close()
    try:
        async with redis_client(settings.redis_url, settings.data_dir) as redis:
            return done, await forget_in_redis(redis, settings.redis_prefix, phone, done)
    except (OSError, RuntimeError):
        return done, False


def _number(phone: str) -> str:
    try:
        return to_e164(phone if phone.startswith("+") else f"+{phone}")
    except BadInbound as exc:
        raise click.ClickException(str(exc)) from None
