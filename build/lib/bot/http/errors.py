"""The carrier never sees a 500: an unexpected failure becomes a 503 it can fail over on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def no_500(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        # 503 tells Twilio to try the fallback URL; nothing acknowledged was lost, since a 200 is
        # only sent after the commit.
        return web.Response(
            status=503, text="temporarily unable to handle this message\n", headers={"Retry-After": "1"}
        )
