"""Each request's id for the log (bot.logs): the caller's X-Request-Id if it sent a sane one, else a
fresh one; a webhook's becomes its MessageSid once read (bot.http.twilio). Sent back as X-Request-Id."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.logs import REQUEST_ID

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get("X-Request-Id", "")
    REQUEST_ID.set(given if _SANE.match(given) else secrets.token_hex(8))
    response = await handler(request)
    response.headers["X-Request-Id"] = REQUEST_ID.get() or ""
    return response
