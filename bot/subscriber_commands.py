"""smsbot subscriber export PHONE: everything held about a number, as one JSON document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli_options import _settings, config_option, read_database
from bot.domain.inbound import BadInbound
from bot.domain.phones import to_e164
from bot.pipeline.subscriber_export import export as export_document


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
    try:
        number = to_e164(phone if phone.startswith("+") else f"+{phone}")
    except BadInbound as exc:
        raise click.ClickException(str(exc)) from None
    document = read_database(_settings(config), export_document, number, datetime.now(UTC))
    if document is None:
        raise click.ClickException(f"nothing is held about {number}")
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{out}: {sum(len(v) for v in document.values() if isinstance(v, list))} rows")
