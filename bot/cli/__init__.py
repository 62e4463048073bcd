"""smsbot serve | worker | chat | segments | campaign | db upgrade | check."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from bot import logs
from bot.cli.campaigns import campaign, campaign_notes
from bot.cli.coupons import coupons_group
from bot.cli.options import _report, _settings, config_option, load_program_or_exit, read_database
from bot.cli.store import events, flow, poster
from bot.cli.subscribers import subscriber, subscribers
from bot.cli.users import users_group
from bot.program.yamlfile import FileProblems
from bot.settings import SIGNING_SECRET, Settings, load_settings

log = logging.getLogger("bot")


def _logging(level: str) -> None:
    form = os.environ.get("SMSBOT_LOG_FORMAT", "text").strip().lower()
    if form not in ("text", "json"):
        raise click.UsageError(f"SMSBOT_LOG_FORMAT={form!r}: expected text or json")
    logs.configure(level, form)
    # transitions narrates every callback at INFO and warns of triggers we ignore on purpose.
    logging.getLogger("transitions").setLevel(logging.ERROR)
    from bot.channels import quiet_sdk_logs

    quiet_sdk_logs()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.group()
def main() -> None:
    """smsbot: conversational SMS keyword programs, self-hosted."""


@main.command()
@config_option
@click.option("--host", help="address to listen on (default from config: 127.0.0.1)")
@click.option("--port", type=int, help="port to listen on (default from config: 8080)")
@click.option("--workers", type=int, help="web processes (default from config: one per CPU core)")
@click.option("--web-process", "child", is_flag=True, hidden=True, help="run as one supervised web process")
def serve(config: Path | None, host: str | None, port: int | None, workers: int | None, child: bool) -> None:
    """Run the webhook server."""
    from aiohttp import web

    from bot.app import create_app
    from bot.serve.supervisor import process_count

    # A reload request (SIGHUP) before the program watcher listens for it must not kill us.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if child:
        # Until the server installs its own handlers nothing can be in flight: stop at once, cleanly.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = _settings(config, host=host, port=port)
    _logging(settings.log_level)
    if not child:
        _warn_about_signatures(settings)
        count = process_count(workers if workers is not None else settings.web_processes)
        if count > 1:
            sys.exit(_supervise(settings, config, count))
    try:
        # Under the supervisor the flow worker is a process of its own; alone, we run it here.
        app = create_app(settings, run_worker=settings.embedded_worker and not child)
    except FileProblems as exc:
        _report(exc)
        sys.exit(1)
    app.on_startup.append(_freeze_startup)  # after the app's own startup: the program, engines, Redis
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
        access_log=None,
        reuse_port=child,
        print=lambda text: log.info("%s", text.strip()),
    )


async def _freeze_startup(_app: Any) -> None:
    from bot.memory import freeze_startup

    freeze_startup()


def _supervise(settings: Settings, config: Path | None, count: int) -> int:
    from bot.program.loader import load_program
    from bot.serve.supervisor import flow_worker_command, supervise, web_process_command

    try:  # fail once, clearly, rather than once per process
        load_program(settings.keywords_dir)
    except FileProblems as exc:
        _report(exc)
        return 1
    config_arg = str(config) if config else None
    commands = [web_process_command(config_arg, settings.host, settings.port)] * count
    if settings.embedded_worker:  # one flow worker beside the web processes
        commands.append(flow_worker_command(config_arg))
    return asyncio.run(supervise(settings, commands))


@main.command()
@config_option
def worker(config: Path | None) -> None:
    """Run flow steps and send messages (any number of these, on any machines)."""
    from bot.serve.worker_process import run_worker

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the program watcher takes it over
    settings = _settings(config)
    _logging(settings.log_level)
    try:
        sys.exit(asyncio.run(run_worker(settings)))
    except FileProblems as exc:
        _report(exc)
        sys.exit(1)


def _warn_about_signatures(settings: Settings) -> None:
    if not settings.signatures_required:
        if not _loopback(settings.host):
            click.echo(
                f"refusing to listen on {settings.host} without {SIGNING_SECRET}: anyone could forge "
                "messages. Set the token, or listen on 127.0.0.1 for local trials.",
                err=True,
            )
            sys.exit(2)
        log.warning("*" * 72)
        log.warning("%s is not set: webhook signatures are NOT checked.", SIGNING_SECRET)
        log.warning("Local trials only; listening on loopback (%s).", settings.host)
        log.warning("*" * 72)
    elif not settings.public_url:
        log.warning("SMSBOT_PUBLIC_URL is not set: signatures are checked against the URL as received")


@main.command()
@config_option
@click.argument("phone")
def chat(config: Path | None, phone: str) -> None:
    """Text the program from this terminal as PHONE (lines from a pipe work too)."""
    from bot.cli import chat_session as chat_module
    from bot.domain.inbound import BadInbound
    from bot.domain.phones import to_e164

    settings = _settings(config)
    logging.basicConfig(level=logging.ERROR)  # the transcript is the output
    try:
        number = to_e164(phone if phone.startswith("+") else f"+{phone}")
    except BadInbound as exc:
        raise click.BadParameter(str(exc), param_hint="PHONE") from exc
    try:
        sys.exit(chat_module.run(settings, number))
    except FileProblems as exc:
        _report(exc)
        sys.exit(1)


@main.command()
@config_option
def segments(config: Path | None) -> None:
    """Each segment of the program with its live count: members, and of them subscribed."""
    settings = _settings(config)
    program = load_program_or_exit(settings)
    click.echo(f"{'segment':<28} {'members':>9} {'subscribed':>11}")
    for name, (members, subscribed) in read_database(settings, _counts, program).items():
        click.echo(f"{name:<28} {members:>9,} {subscribed:>11,}")


def _counts(conn: Any, program: Any) -> dict[str, tuple[int, int]]:
    """Every segment's (members, subscribed), on the brand's today."""
    from datetime import UTC, datetime

    from bot.store.segments import count

    now = datetime.now(UTC)
    return {
        name: count(conn, segment, program.segments, now, program.info.zone)
        for name, segment in program.segments.items()
    }


@main.command()
@config_option
@click.argument("name")
@click.option(
    "--export", type=click.Path(path_type=Path, dir_okay=False), help="every member to this CSV file"
)
def segment(config: Path | None, name: str, export: Path | None) -> None:
    """One segment: its count and a sample of members (numbers masked), or every member as CSV."""
    from datetime import UTC, datetime

    from bot.domain.phones import mask_phone

    settings = _settings(config)
    program = load_program_or_exit(settings)
    if name not in program.segments:
        raise click.ClickException(f"no segment {name} (segments: {', '.join(program.segments) or 'none'})")
    now = datetime.now(UTC)
    (members, subscribed), sample = read_database(settings, _segment_figures, program, name, now, export)
    click.echo(f"{name}: {members:,} members, {subscribed:,} of them subscribed")
    for m in sample:
        click.echo(
            f"  {mask_phone(m['phone'])}  {m['status']:<12} {m['language'] or '-':<3} {m['country'] or '-'}"
        )
    if export is not None:
        click.echo(f"every member written to {export}")


def _segment_figures(
    conn: Any, program: Any, name: str, now: Any, export: Path | None
) -> tuple[tuple[int, int], list[dict[str, Any]]]:
    """(members, subscribed) and a sample of five; with `export`, every member to that file first."""
    from bot.pipeline.segment_members import members_page
    from bot.store.segments import count

    if export is not None:
        _export(conn, export, program, name, now)
    counted = count(conn, program.segments[name], program.segments, now, program.info.zone)
    return counted, members_page(conn, program, name, now, 0, 5)


def _export(conn: Any, path: Path, program: Any, name: str, now: Any) -> None:
    """Every member of the segment to a CSV file, a page at a time."""
    from bot.pipeline.segment_members import csv_header, csv_page

    after: int | None = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(csv_header(program))
        while after is not None:
            text, after = csv_page(conn, program, name, now, after)
            out.write(text)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@config_option
@click.option("--revision", default="head", show_default=True)
def db_upgrade(config: Path | None, revision: str) -> None:
    """Apply migrations."""
    from bot.store import db as store_db

    settings = _settings(config)
    _logging(settings.log_level)

    async def run() -> None:
        engine = store_db.create_engine(settings.database_url)
        try:
            await store_db.upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())
    click.echo(f"database at {revision}")


@main.command()
def schema() -> None:
    """The keyword program's JSON Schema, for editors: smsbot schema > keywords/program.schema.json."""
    from bot.program.json_schema import schema_text

    click.echo(schema_text(), nl=False)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def check(config: Path | None, as_json: bool) -> None:
    """Validate the config and keyword files; exit 1 on errors."""
    from bot.program.loader import load_program

    problems = []
    warnings = []
    try:
        settings = load_settings(config)
        loaded = load_program(settings.keywords_dir, settings.short_link_base)
        warnings = [*loaded.warnings, *campaign_notes(settings, loaded.program)]
        summary = f"{len(loaded.program.keywords)} keywords, program {loaded.program.info.name!r}"
    except FileProblems as exc:
        problems = [p for p in exc.problems if p.severity == "error"]
        warnings = [p for p in exc.problems if p.severity != "error"]
        summary = ""
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": not problems,
                    "problems": [
                        {"file": p.file, "line": p.line, "severity": p.severity, "message": p.message}
                        for p in [*problems, *warnings]
                    ],
                },
                indent=2,
            )
        )
    else:
        for problem in [*problems, *warnings]:
            click.echo(str(problem), err=bool(problems))
        cautions = sum(1 for w in warnings if w.severity == "warning")
        counts = f"{len(problems)} errors, {cautions} warnings, {len(warnings) - cautions} notes"
        click.echo(counts + (f"; {summary}" if summary else ""))
    sys.exit(1 if problems else 0)


main.add_command(campaign)
main.add_command(coupons_group)
main.add_command(events)
main.add_command(flow)
main.add_command(poster)
main.add_command(subscriber)
main.add_command(subscribers)
main.add_command(users_group)
