"""The dashboard's Segments pages: each segment's live count; one segment's definition, a sample of
its members (numbers masked) and its CSV export (kept in the audit log: it is the list itself)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain.model import Program
from bot.domain.phones import mask_phone
from bot.domain.segments import describe
from bot.http.admin import read, write
from bot.http.segments import stream_members
from bot.pipeline.segment_members import members_page
from bot.services import SERVICES
from bot.store.audit import record
from bot.store.segments import count

SAMPLE = 20


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/segments", listing)
    app.router.add_get("/dashboard/segments/{name}", detail)
    app.router.add_get("/dashboard/segments/{name}/members.csv", export)


@auth.logged_in
async def listing(request: web.Request) -> web.StreamResponse:
    current = request.app[SERVICES].program.current
    found = await read(request.app[SERVICES], _counts, current, list(current.segments))
    return render(request, "segments.html", segments=found)


@auth.logged_in
async def detail(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    program, name = services.program.current, _name(request)
    [counted] = await read(services, _counts, program, [name])
    sample = await read(services, members_page, program, name, datetime.now(UTC), 0, SAMPLE)
    members = [
        {"phone": mask_phone(m["phone"]), "status": m["status"], "language": m["language"] or ""}
        for m in sample
    ]
    return render(
        request,
        "segment.html",
        segment=counted,
        condition=json.dumps(describe(program.segments[name].condition), default=str),
        members=members,
    )


@auth.logged_in
async def export(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    name = _name(request)
    address = request.remote or "unknown"
    await write(services, record, datetime.now(UTC), address, "segment_export", name)
    return await stream_members(request, services, services.program.current, name)


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    if name not in request.app[SERVICES].program.current.segments:
        raise web.HTTPNotFound(text=f"no segment {name}\n")
    return name


def _counts(conn: Connection, current: Program, names: list[str]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    found = []
    for name in names:
        segment = current.segments[name]
        members, subscribed = count(conn, segment, current.segments, now, current.info.zone)
        found.append({"name": name, "members": members, "subscribed": subscribed})
    return found
