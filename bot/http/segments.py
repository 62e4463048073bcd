"""The admin API's segments: each with its live count, one's definition, its members (paged JSON,
or every member as CSV, streamed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.domain.model import Program
from bot.domain.segments import describe
from bot.http.admin import authorised
from bot.http.disposition import content_disposition
from bot.pipeline.segment_members import csv_header, csv_page, members_page
from bot.services import Services
from bot.store.segments import count

MAX_PAGE = 1_000


def _name(request: web.Request, program: Program) -> str:
    name = request.match_info["name"]
    if name not in program.segments:
        raise web.HTTPNotFound(text=f"no segment {name}\n")
    return name


async def _counted(services: Services, program: Program, name: str) -> dict[str, Any]:
    assert services.engine is not None
    async with services.engine.connect() as conn:
        members, subscribed = await conn.run_sync(
            count, program.segments[name], program.segments, datetime.now(UTC), program.info.zone
        )
    return {"name": name, "members": members, "subscribed": subscribed}


async def list_segments(request: web.Request) -> web.Response:
    services, program = authorised(request)
    return web.json_response({"segments": [await _counted(services, program, n) for n in program.segments]})


async def get_segment(request: web.Request) -> web.Response:
    services, program = authorised(request)
    name = _name(request, program)
    found = await _counted(services, program, name)
    return web.json_response({**found, "condition": describe(program.segments[name].condition)})


def _whole(request: web.Request, key: str, default: int, most: int) -> int:
    raw = request.query.get(key, str(default))
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= most:
        raise web.HTTPBadRequest(text=f"{key}: a whole number from 0 to {most}\n")
    return int(raw)


async def get_members(request: web.Request) -> web.Response:
    """?after=ID&limit=N: the next page; `next` is the `after` of the page that follows, or null."""
    services, program = authorised(request)
    name = _name(request, program)
    after = _whole(request, "after", 0, 2**62)
    limit = _whole(request, "limit", 100, MAX_PAGE) or 1
    assert services.engine is not None
    async with services.engine.connect() as conn:
        page = await conn.run_sync(members_page, program, name, datetime.now(UTC), after, limit)
    return web.json_response(
        {"members": page, "next": page[-1]["id"] if len(page) == limit else None}, dumps=_dumps
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def export_members(request: web.Request) -> web.StreamResponse:
    services, program = authorised(request)
    return await stream_members(request, services, program, _name(request, program))


async def stream_members(
    request: web.Request, services: Services, program: Program, name: str
) -> web.StreamResponse:
    """Every member as CSV, streamed page by page: the memory stays flat whatever the segment's size."""
    assert services.engine is not None
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": content_disposition("attachment", f"{name}.csv"),
        }
    )
    await response.prepare(request)
    now = datetime.now(UTC)
    after: int | None = 0
    await response.write(csv_header(program).encode())
    while after is not None:
        async with services.engine.connect() as conn:  # one short read per page
            text, after = await conn.run_sync(csv_page, program, name, now, after)
        await response.write(text.encode())
    await response.write_eof()
    return response
