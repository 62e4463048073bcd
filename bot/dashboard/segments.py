"""The dashboard's Segments pages: each segment's count (kept: the worker counts every segment again
every 5 minutes, and a marketer may ask for a count now); one segment's definition, a sample of its
members (numbers masked) and its CSV export (kept in the audit log: it is the list itself)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain.phones import mask_phone
from bot.domain.roles import Permission
from bot.domain.segments import describe
from bot.http.admin import read, write
from bot.http.segments import stream_members
from bot.pipeline.segment_members import members_page
from bot.services import SERVICES
from bot.store.segment_counts import Counted, count_now, keep, kept

SAMPLE = 20


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/segments", listing)
    app.router.add_get("/dashboard/segments/{name}", detail)
    app.router.add_post("/dashboard/segments/{name}/count", count_again)
    app.router.add_get("/dashboard/segments/{name}/members.csv", export)


@auth.logged_in
async def listing(request: web.Request) -> web.StreamResponse:
    program = request.app[SERVICES].program.current
    found = await _counted(request, list(program.segments))
    return render(request, "segments.html", segments=[found[name] for name in program.segments])


@auth.logged_in
async def detail(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    program, name = services.program.current, _name(request)
    counted = (await _counted(request, [name]))[name]
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
async def count_again(request: web.Request) -> web.StreamResponse:
    """Count one segment now (the page shows the last count, made at most a few minutes ago)."""
    name = _name(request)
    await _count(request, [name])
    raise web.HTTPFound(f"/dashboard/segments/{quote(name, safe='')}")


async def _counted(request: web.Request, names: list[str]) -> dict[str, Counted]:
    """The kept counts of these segments; one never counted (or counted before the segments
    changed) is counted now."""
    services = request.app[SERVICES]
    found = await read(services, kept, services.program.current)
    missing = [name for name in names if name not in found]
    return {**found, **await _count(request, missing)}


async def _count(request: web.Request, names: list[str]) -> dict[str, Counted]:
    if not names:
        return {}
    services = request.app[SERVICES]
    program = services.program.current
    counted = await read(services, count_now, program, names, datetime.now(UTC))
    await write(services, keep, program, counted)
    return {c.name: c for c in counted}


@auth.requires(Permission.MARKET)
async def export(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    name = _name(request)
    await auth.audit(request, "segment_export", name)
    return await stream_members(request, services, services.program.current, name)


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    if name not in request.app[SERVICES].program.current.segments:
        raise web.HTTPNotFound(text=f"no segment {name}\n")
    return name
