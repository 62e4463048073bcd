"""`smsbot chat +14155550123`: text the program from a terminal, through the webhook's own path.

The app starts as it does for `serve` (same database, Redis, writer, state machine) but listens
nowhere; each line becomes an inbound message handled exactly as a carrier's would be. Replies are
recorded with status `simulated` and printed, never sent.

`/skip` does what the worker would do later, now: this subscriber's waiting flow steps fall due
(a `wait`, or a question's timeout; a date-triggered flow, a birthday's, as if the day had come)
and run through the worker's own transactions, and what they send is recorded as `simulated` and
printed. Only this subscriber's runs: other people's steps are
left to the real worker. Quiet hours are noted, not waited for.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import TextIO

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from bot.app import create_app
from bot.channels.base import OutboundMessage, Reply
from bot.channels.dryrun import DryRunSender
from bot.domain.flow_runner import RunState
from bot.domain.flows import Flow
from bot.domain.inbound import InboundMessage, safe_text
from bot.domain.inbox import Converse
from bot.domain.quiet_hours import QuietHours, Window
from bot.pipeline import sending
from bot.pipeline.date_triggers import start_next
from bot.pipeline.steps import run_due_steps
from bot.services import SERVICES, Services
from bot.settings import Settings
from bot.store.db import WriteTransactions
from bot.store.schema import RUN_IS_ACTIVE, flow_runs, subscribers

PROMPT = "you> "
SKIP = "/skip"
ALWAYS_OPEN = QuietHours(default=Window(time(0, 0), time(23, 59, 59, 999999)))
NO_LEASE = timedelta(0)
MAX_SKIPPED_STARTS = 20  # `start` steps chaining flows that begin at once: enough, and finite


def transcript(replies: Sequence[Reply]) -> str:
    """The chat's own answer: each reply on a line of its own."""
    return "\n".join(f"bot> {reply.body}" for reply in replies)


async def chat(settings: Settings, phone: str, lines: TextIO, out: Callable[[str], None]) -> int:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()  # the cleanup contexts: database and migrations, Redis, the writer
    try:
        services = app[SERVICES]
        interactive = lines.isatty()
        out(
            f"chatting as {phone} with {services.program.current.info.name!r}; "
            f"{SKIP} runs waiting flow steps now; Ctrl-D or /quit to end"
        )
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
            if text.strip() == SKIP:
                await _skip(services, phone, out)
            else:
                await _text(services, phone, text, out)
    finally:
        await runner.cleanup()
    return 0


async def _text(services: Services, phone: str, text: str, out: Callable[[str], None]) -> None:
    message = InboundMessage(
        message_sid=f"SMchat{secrets.token_hex(13)}",
        sender=phone,
        recipient="chat",
        body=safe_text(text),
        received_at=datetime.now(UTC),
        simulated=True,
    )
    handled = await services.pipeline().handle(message, transcript)
    if handled.answer:
        out(handled.answer)
    outcome = handled.applied.outcome if handled.applied else None
    if outcome is None:
        return
    notes = [f"{outcome.intent.value}" + (f" {outcome.word}" if outcome.word else "")]
    if outcome.said:
        notes.append(f"read as {outcome.said}")  # which opt-out rule decided, and why
    for change in outcome.consent:
        notes.append(f"{change.from_status.value} -> {change.to_status.value} ({change.action.value})")
    for key in ("opt_in_source", "language"):
        if key in outcome.updates:
            notes.append(f"{key.replace('_', ' ')} {outcome.updates[key]}")
    if "properties" in outcome.updates:
        notes.append(f"properties {outcome.updates['properties']}")
    if outcome.converse is not None:
        notes.append(_INBOX[outcome.converse])
    if outcome.cancel_flows:
        notes.append("flows cancelled")
    for run in outcome.runs:
        verb = "started" if run.started else "moved on"
        notes.append(f"flow {run.flow} {verb}, {_where(run.state)}")
    if not outcome.replies:
        notes.append("no reply")
    out(f"     [{' · '.join(notes)}]")


_INBOX = {  # what the text did in the dashboard's Inbox
    Converse.OPENED: "inbox: a conversation opens (a person reads it)",
    Converse.JOINED: "inbox: joins the open conversation",
    Converse.CLOSED: "inbox: the conversation closes",
}


def _where(state: RunState | None) -> str:
    if state is None:
        return "and ended"
    if state.waiting:
        return f"waiting for an answer at step {state.step + 1}"
    return f"next step {state.step + 1} at {state.due_at:%Y-%m-%d %H:%M} UTC"


async def _skip(services: Services, phone: str, out: Callable[[str], None]) -> None:
    assert services.engine is not None
    now = datetime.now(UTC)
    theirs = select(subscribers.c.id).where(subscribers.c.phone == phone).scalar_subquery()
    active = (flow_runs.c.subscriber_id == theirs) & RUN_IS_ACTIVE
    transactions = WriteTransactions(services.engine, services.settings.database_url, name="chat-skip")
    sender = DryRunSender()
    notes: list[str] = []
    try:
        program, quiet = services.program.current, services.settings.quiet_hours
        notes += await transactions.run(_bring_dated, phone, program.flows, quiet, now)
        async with services.engine.connect() as conn:
            skipped = list(await conn.scalars(select(flow_runs.c.id).where(active)))
        if not skipped:
            out("     [no flow is running for you]")
            return
        await transactions.run(_due_now, skipped, now)
        ran: set[int] = set()
        sent = 0
        for _ in range(MAX_SKIPPED_STARTS):  # flows begun by `start` steps are due at once too
            async with services.engine.connect() as conn:
                due = list(
                    await conn.scalars(select(flow_runs.c.id).where(active, flow_runs.c.due_at <= now))
                )
            if not due:
                break
            ran.update(due)
            stepped = await transactions.run(
                run_due_steps,
                due,
                services.program.current,
                services.settings.policy,
                ALWAYS_OPEN,
                now,
            )
            claims = await transactions.run(sending.claim, list(stepped.messages), ALWAYS_OPEN, now, NO_LEASE)
            results = [
                await sender.send(OutboundMessage(c.ref, c.to, c.body, c.media_urls)) for c in claims.ready
            ]
            await transactions.run(
                sending.record_results, list(zip(claims.ready, results, strict=True)), now, 1, NO_LEASE
            )
            for claimed in claims.ready:
                if claimed.body:
                    out(f"bot> {claimed.body}")
                for url in claimed.media_urls:
                    out(f"bot> [media] {url}")
            sent += len(claims.ready)
        if sent and not services.settings.quiet_hours.allows(now, phone):
            notes.append(f"quiet hours: a real send waits until {_opening(services, phone, now)}")
        async with services.engine.connect() as conn:
            runs = (await conn.execute(select(flow_runs).where(flow_runs.c.id.in_(ran)))).mappings().all()
        for run in runs:
            state = None
            if run["status"] == "active":
                state = RunState(run["flow"], run["step"], run["waiting"], run["asked_again"], run["due_at"])
            notes.append(f"flow {run['flow']} skipped ahead, {_where(state)}")
    finally:
        transactions.close()
    out(f"     [{' · '.join(notes) or 'nothing was due'}]")


def _bring_dated(
    conn: Connection, phone: str, flows: Mapping[str, Flow], quiet: QuietHours, now: datetime
) -> list[str]:
    """Date-triggered flows (a birthday's) brought forward to now for this subscriber."""
    found = conn.scalar(select(subscribers.c.id).where(subscribers.c.phone == phone))
    return start_next(conn, found, flows, quiet, now) if found is not None else []


def _due_now(conn: Connection, run_ids: list[int], now: datetime) -> None:
    conn.execute(update(flow_runs).where(flow_runs.c.id.in_(run_ids)).values(due_at=now, updated_at=now))


def _opening(services: Services, phone: str, now: datetime) -> str:
    quiet = services.settings.quiet_hours
    opens = quiet.next_allowed(now, phone).astimezone(quiet.zones(phone)[0])
    return f"{opens:%H:%M} local ({opens.tzinfo})"


def run(settings: Settings, phone: str) -> int:
    return asyncio.run(chat(settings, phone, sys.stdin, lambda s: print(s, flush=True)))
