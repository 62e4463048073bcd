"""GET /healthz: 200 when the database and Redis answer, 503 naming what is down."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from bot.services import SERVICES

TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks: dict[str, str] = {}

    async def database() -> None:  # it answers reads, and it can take a write (not locked, not read-only)
        assert services.engine is not None and services.writer is not None
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        await services.writer.probe()

    async def redis() -> None:
        assert services.redis is not None
        await services.redis.ping()

    for name, probe in (("database", database), ("redis", redis)):
        try:
            await asyncio.wait_for(probe(), TIMEOUT)
            checks[name] = "ok"
        except Exception as exc:  # any failure is "down"; say which kind
            checks[name] = f"down: {type(exc).__name__}"
    down = [name for name, state in checks.items() if state != "ok"]
    body: dict[str, object] = {
        "status": "ok" if not down else "down",
        "checks": checks,
        "program": services.program.current.fingerprint,
    }
    if down:
        body["down"] = down
    return web.json_response(body, status=503 if down else 200)
