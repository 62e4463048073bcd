"""GET /metrics: Prometheus' text format, behind its own bearer token (SMSBOT_METRICS_TOKEN).

Without a token set it is not served at all (404): metrics are never public by accident. The token
is compared in constant time; a wrong one is a 401, as for the admin API.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from bot import metrics
from bot.services import SERVICES


async def get_metrics(request: web.Request) -> web.Response:
    token = request.app[SERVICES].settings.metrics_token
    if not token:
        raise web.HTTPNotFound(text="metrics are off: set SMSBOT_METRICS_TOKEN\n")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise web.HTTPUnauthorized(
            text="expected Authorization: Bearer <SMSBOT_METRICS_TOKEN>\n",
            headers={"WWW-Authenticate": 'Bearer realm="smsbot metrics"'},
        )
    body = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})
