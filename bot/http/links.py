"""GET /l/{code}: a tracked link. 302 to its target with UTM parameters, the click recorded; a
link-preview fetcher is sent on too, its visit kept apart. An unknown or expired code: plain 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web

from bot.domain.links import is_preview
from bot.http.errors import within
from bot.pipeline.clicks import Click
from bot.services import SERVICES

_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
NOT_FOUND = "This link is not valid any more.\n"


async def follow(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    if not _CODE.fullmatch(code):
        raise web.HTTPNotFound(text=NOT_FOUND)
    services = request.app[SERVICES]
    assert services.writer is not None
    agent = request.headers.get("User-Agent")
    tap = Click(code, agent, is_preview(agent, request.method), datetime.now(UTC))
    target = await within(services, services.writer.click(tap))
    if target is None:
        raise web.HTTPNotFound(text=NOT_FOUND)
    # Not cached: every tap is a click to count, and the target may carry what it was sent with.
    raise web.HTTPFound(target, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
