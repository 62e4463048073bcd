"""GET /l/{code}: a tracked link. 302 to its target with UTM parameters, the click handed to the
writer; a link-preview fetcher is sent on too, its visit kept apart. Unknown or expired: plain 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web

from bot import metrics
from bot.domain.links import is_preview
from bot.http.errors import busy, within
from bot.pipeline.clicks import Click
from bot.services import SERVICES

_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
NOT_FOUND = "This link is not valid any more.\n"


async def follow(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    if not _CODE.fullmatch(code):
        raise web.HTTPNotFound(text=NOT_FOUND)
    services = request.app[SERVICES]
    assert services.writer is not None and services.destinations is not None
    now = datetime.now(UTC)
    try:
        found = await services.destinations.find(code)
    except TimeoutError:
        raise busy(services) from None
    if found is None or not found.live(now, services.settings.policy.link_lifetime):
        raise web.HTTPNotFound(text=NOT_FOUND)
    agent = request.headers.get("User-Agent")
    preview = is_preview(agent, request.method)
    metrics.CLICKS.labels("yes" if preview else "no").inc()
    behind = services.writer.click(Click(found, agent, preview, now))
    if behind is not None:
        await within(services, behind)
    # Returned, not raised as HTTPFound (which builds a body and an exception for every tap). Not
    # cached: every tap is a click to count, and the target may carry what it was sent with.
    return web.Response(status=302, headers={"Location": found.target, **_REDIRECT})


_REDIRECT = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
