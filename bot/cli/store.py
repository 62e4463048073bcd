"""smsbot events import FILE | smsbot flow report NAME | smsbot poster KEYWORD.

`events import` reads a store's events (a JSON list, `{"events": [...]}`, or one JSON object per
line) and stores them as POST /api/events does: every item checked first, nothing stored if any is
wrong, then in batches of 1,000, each attributed and automated in its transaction.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from bot.domain.store_events import MAX_BATCH, EventProblem, StoreEvent, from_api
from bot.pipeline import flow_reports
from bot.pipeline.automations import Automated
from bot.pipeline.store_events import Recorded, import_history


@click.group()
def events() -> None:
    """A store's events: checkouts, orders, shipments (also POST /api/events, Shopify's webhooks)."""


@events.command("import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--run-automations",
    is_flag=True,
    help="Let the events start automations (only those fresh enough); by default history starts none.",
)
@json_option
def import_events(config: Path | None, file: Path, run_automations: bool, as_json: bool) -> None:
    """Store the events in FILE (JSON or JSON lines), as the API would, without texting anyone for
    them unless --run-automations (exit events still end the runs they end)."""
    settings = _settings(config)
    program = load_program_or_exit(settings)
    found, problems = _parse(_items(file), settings.store_country)
    if problems:
        for problem in problems:
            click.echo(f"{file}:{problem}", err=True)
        raise click.ClickException(f"{len(problems)} events are wrong: nothing stored")
    done: list[tuple[Recorded, Automated]] = [
        write_database(
            settings,
            import_history,
            found[start : start + MAX_BATCH],
            program.flows,
            settings.attribution,
            datetime.now(UTC),
            run_automations,
        )
        for start in range(0, len(found), MAX_BATCH)
    ]
    totals: dict[str, Any] = {
        f.name: sum(getattr(r, f.name) for r, _ in done) for f in dataclasses.fields(Recorded)
    }
    totals["automations_started"] = sum(a.started for _, a in done)
    totals["automations_not_started"] = dict(sum((Counter(a.not_started) for _, a in done), Counter()))
    click.echo(json.dumps(totals) if as_json else _said(totals))


def _said(totals: dict[str, Any]) -> str:
    said = (
        f"{totals['stored']} stored, {totals['repeated']} already stored, {totals['customers']} of "
        f"customers who are not subscribers, {totals['attributed']} orders attributed; "
        f"{totals['automations_started']} automations started"
    )
    refused = totals["automations_not_started"]
    if refused:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(refused.items()))
        said += f", {sum(refused.values())} automations not started: {why}"
        if "history" in refused:
            said += " (--run-automations starts those fresh enough)"
    return said


def _items(file: Path) -> list[tuple[int, Any]]:
    """(line, item) of each event in the file."""
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        return [(n, _line(file, n, line)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    items = data.get("events") if isinstance(data, dict) and "events" in data else data
    return list(enumerate(items if isinstance(items, list) else [items], 1))


def _line(file: Path, n: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise click.ClickException(f"{file}:{n}: not JSON: {exc}") from None


def _parse(items: list[tuple[int, Any]], country: str) -> tuple[list[StoreEvent], list[str]]:
    found: list[StoreEvent] = []
    problems: list[str] = []
    for n, item in items:
        try:
            found.append(from_api(item, country))
        except EventProblem as exc:
            problems.append(f"{n}: {exc}")
    return found, problems


@click.group()
def flow() -> None:
    """Flows: how each one does."""


@flow.command()
@config_option
@click.argument("name")
@json_option
def report(config: Path | None, name: str, as_json: bool) -> None:
    """Runs, recipients, clicks, conversions and revenue of a flow, beside Klaviyo's benchmark."""
    settings = _settings(config)
    program = load_program_or_exit(settings)
    if name not in program.flows:
        raise click.ClickException(
            f"no flow {name} in the program (flows: {', '.join(sorted(program.flows))})"
        )
    echo_found(read_database(settings, flow_reports.report, name), as_json)


@click.command()
@config_option
@click.argument("keyword")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("."), help="folder")
def poster(config: Path | None, keyword: str, out: Path) -> None:
    """Write KEYWORD's poster (SVG, with the call to action and disclosure) and QR code (SVG, PNG)."""
    from bot.domain.posters import PosterProblem
    from bot.domain.posters import poster as make_poster

    settings = _settings(config)
    program = load_program_or_exit(settings)
    found = program.keywords.get(keyword.upper()) or program.keywords.get(keyword)
    if found is None:
        raise click.ClickException(f"no keyword {keyword} (keywords: {', '.join(sorted(program.keywords))})")
    try:
        made = make_poster(found, settings.texted_number)
    except PosterProblem as exc:
        raise click.ClickException(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    files = {
        f"{found.name}-poster.svg": made.poster_svg(program.info),
        f"{found.name}-qr.svg": made.qr_svg(),
        f"{found.name}-qr.png": made.qr_png(),
    }
    for name, content in files.items():
        (out / name).write_bytes(content)
    click.echo(f"{made.link}\n" + "\n".join(str(out / name) for name in files))
