"""`smsbot chat +14155550123`: text the program from a terminal, through the webhook's own path.

The app starts as it does for `serve` (same database, Redis, writer, state machine) but listens
nowhere; each line becomes an inbound message handled exactly as a carrier's would be. Replies are
recorded with status `simulated` and printed, never sent.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TextIO

from aiohttp import web

from bot.app import create_app
from bot.core.inbound import parse_form
from bot.http.twilio import handle
from bot.services import SERVICES, Services
from bot.settings import Settings

PROMPT = "you> "


def _replies(twiml: str) -> list[str]:
    return [m.text or "" for m in ET.fromstring(twiml).iter("Message")]


async def chat(settings: Settings, phone: str, lines: TextIO, out: Callable[[str], None]) -> int:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()  # the cleanup contexts: database and migrations, Redis, the writer
    try:
        services = app[SERVICES]
        interactive = lines.isatty()
        out(f"chatting as {phone} with {services.program.current.info.name!r}; Ctrl-D or /quit to end")
        while True:
            if interactive:
                out(PROMPT.rstrip("\n"))
            line = await asyncio.to_thread(lines.readline)
            if not line:
                break
            text = line.rstrip("\r\n")
            if text.strip() == "/quit":
                break
            if not interactive:
                out(f"{PROMPT}{text}")
            await _text(services, phone, text, out)
    finally:
        await runner.cleanup()
    return 0


async def _text(services: Services, phone: str, text: str, out: Callable[[str], None]) -> None:
    form = {"MessageSid": f"SMchat{secrets.token_hex(13)}", "From": phone, "To": "chat", "Body": text}
    message = replace(parse_form(form, datetime.now(UTC)), simulated=True)
    handled = await handle(services, message)
    for reply in _replies(handled.twiml):
        out(f"bot> {reply}")
    outcome = handled.applied.outcome if handled.applied else None
    if outcome is None:
        return
    notes = [f"{outcome.intent.value}" + (f" {outcome.word}" if outcome.word else "")]
    for change in outcome.consent:
        notes.append(f"{change.from_status.value} -> {change.to_status.value} ({change.action.value})")
    for key in ("opt_in_source", "language"):
        if key in outcome.updates:
            notes.append(f"{key.replace('_', ' ')} {outcome.updates[key]}")
    if "properties" in outcome.updates:
        notes.append(f"properties {outcome.updates['properties']}")
    if outcome.cancel_flows:
        notes.append("flows cancelled")
    for run in outcome.runs:
        verb = "started" if run.started else "moved on"
        if run.state is None:
            where = "and ended"
        elif run.state.waiting:
            where = f"waiting for an answer at step {run.state.step + 1}"
        else:
            where = f"next step {run.state.step + 1} at {run.state.due_at:%Y-%m-%d %H:%M} UTC"
        notes.append(f"flow {run.flow} {verb}, {where}")
    if not outcome.replies:
        notes.append("no reply")
    out(f"     [{' · '.join(notes)}]")


def run(settings: Settings, phone: str) -> int:
    return asyncio.run(chat(settings, phone, sys.stdin, lambda s: print(s, flush=True)))
