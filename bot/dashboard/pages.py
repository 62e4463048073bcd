"""The dashboard's pages. Each reads what it shows in one short visit to the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bot.dashboard import (
    account,
    audit,
    auth,
    campaigns,
    flows,
    inbox,
    keywords,
    list_data,
    overview,
    second_step,
    segments,
    signup,
    users,
)
from bot.dashboard import subscribers as subscriber_page
from bot.dashboard.render import render
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from bot.services import SERVICES

_STATIC = Path(__file__).parent / "static"


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard", overview.overview)
    app.router.add_get("/dashboard/login", auth.login_page)
    app.router.add_post("/dashboard/login", auth.login)
    app.router.add_post("/dashboard/logout", auth.logout)
    app.router.add_post("/dashboard/logout/everywhere", auth.logout_everywhere)
    app.router.add_get("/dashboard/program", program)
    app.router.add_static("/dashboard/static", _STATIC, append_version=True)
    campaigns.setup(app)
    subscriber_page.setup(app)
    list_data.setup(app)
    keywords.setup(app)
    flows.setup(app)
    segments.setup(app)
    signup.setup(app)
    users.setup(app)
    inbox.setup(app)
    second_step.setup(app)
    account.setup(app)
    audit.setup(app)


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
        loaded_at=services.program.loaded_at,
        problems=[p for p in problems if p.severity != "info"],
        notes=sum(1 for p in problems if p.severity == "info"),
        errors=sum(1 for p in problems if p.severity == "error"),
        in_step=on_disk == running.fingerprint,
        checked_at=datetime.now(UTC),
    )
