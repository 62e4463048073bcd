"""GET /api/flows/{name}/report: a flow's runs, recipients, clicks, conversions and revenue."""

from __future__ import annotations

from aiohttp import web

from bot.http.admin import authorised, read
from bot.pipeline import flow_reports


async def get_report(request: web.Request) -> web.Response:
    services, program = authorised(request)
    name = request.match_info["name"]
    if name not in program.flows:
        raise web.HTTPNotFound(text=f"no flow {name}\n")
    return web.json_response(await read(services, flow_reports.report, name))
