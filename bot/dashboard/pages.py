"""The dashboard's pages. Each reads what it shows in one short visit to the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.dashboard import auth, campaigns, flows, keywords, overview, signup
from bot.dashboard import subscribers as subscriber_page
from bot.dashboard.render import render
from bot.domain.model import Program
from bot.http.admin import read
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from bot.services import SERVICES
from bot.store.segments import count

_STATIC = Path(__file__).parent / "static"


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard", overview.overview)
    app.router.add_get("/dashboard/login", auth.login_page)
    app.router.add_post("/dashboard/login", auth.login)
    app.router.add_post("/dashboard/logout", auth.logout)
    app.router.add_get("/dashboard/segments", segments)
    app.router.add_get("/dashboard/program", program)
    app.router.add_static("/dashboard/static", _STATIC, append_version=True)
    campaigns.setup(app)
    subscriber_page.setup(app)
    keywords.setup(app)
    flows.setup(app)
    signup.setup(app)


@auth.logged_in
async def segments(request: web.Request) -> web.StreamResponse:
    current = request.app[SERVICES].program.current
    found = await read(request.app[SERVICES], _segment_counts, current)
    return render(request, "segments.html", segments=found)


@auth.logged_in
async def program(request: web.Request) -> web.StreamResponse:
    """The program in force, and what `smsbot check` says of the files on disk now."""
    services = request.app[SERVICES]
    running = services.program.current
    try:
        loaded = await asyncio.to_thread(
            load_program, services.settings.keywords_dir, services.settings.short_link_base
        )
        problems, on_disk = loaded.warnings, loaded.program.fingerprint
    except FileProblems as exc:
        problems, on_disk = exc.problems, None
    return render(
        request,
        "program.html",
        running=running,
        problems=[p for p in problems if p.severity != "info"],
        notes=sum(1 for p in problems if p.severity == "info"),
        errors=sum(1 for p in problems if p.severity == "error"),
        in_step=on_disk == running.fingerprint,
        checked_at=datetime.now(UTC),
    )


def _segment_counts(conn: Connection, current: Program) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    found = []
    for segment in current.segments.values():
        members, subscribed = count(conn, segment, current.segments, now, current.info.zone)
        found.append({"name": segment.name, "members": members, "subscribed": subscribed})
    return found
