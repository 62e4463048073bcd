"""The admin API's campaigns: the same actions as `smsbot campaign`, behind the admin token.

GET  /api/campaigns                      each campaign of the program, with its latest round's status
GET  /api/campaigns/{name}               status: each recipient's outcome, counted
GET  /api/campaigns/{name}/preview       who would get it, what they would read, what it would cost
GET  /api/campaigns/{name}/report        sent, delivered, failed by code, clicks, click rate, opt-outs
POST /api/campaigns/{name}/send          {"again": false}: fix the audience now and start sending
POST /api/campaigns/{name}/pause | resume | cancel | retry
POST /api/campaigns/{name}/winner        {"variant": "b"} (or null: no winner): an A/B test's, by hand
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.domain.campaigns import Campaign
from bot.domain.model import Program
from bot.http.admin import authorised, read, write
from bot.http.clients import client_address
from bot.pipeline import campaign_reports, campaigns
from bot.services import Services
from bot.store.schema import campaigns as table

MAX_BODY = 4096


def _campaign(request: web.Request, program: Program) -> Campaign:
    name = request.match_info["name"]
    found = program.campaigns.get(name)
    if found is None:
        raise web.HTTPNotFound(text=f"no campaign {name}\n")
    return found


def _refused(exc: campaigns.CampaignProblem) -> web.HTTPConflict:
    return web.HTTPConflict(text=json.dumps({"error": str(exc)}), content_type="application/json")


async def _read(services: Services, query: Callable[..., Any], *args: Any) -> Any:
    try:
        return await read(services, query, *args)
    except campaigns.CampaignProblem as exc:
        raise _refused(exc) from None


async def _write(services: Services, change: Callable[..., Any], *args: Any) -> Any:
    try:
        return await write(services, change, *args)
    except campaigns.CampaignProblem as exc:
        raise _refused(exc) from None


def latest_rounds(conn: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        select(table.c.name, table.c.round, table.c.status, table.c.audience, table.c.started_at)
        .where(table.c.name.in_(names))
        .order_by(table.c.round)
    )
    return {row.name: {**row._asdict(), "started_at": row.started_at.isoformat()} for row in rows}


async def list_campaigns(request: web.Request) -> web.Response:
    services, program = authorised(request)
    sent = await _read(services, latest_rounds, list(program.campaigns))
    listed = [
        {
            "name": name,
            "segment": found.segment,
            "timing": found.timing.value,
            "send_at": found.send_at.isoformat() if found.send_at else None,
            "latest": sent.get(name),
        }
        for name, found in program.campaigns.items()
    ]
    return web.json_response({"campaigns": listed})


async def get_status(request: web.Request) -> web.Response:
    services, program = authorised(request)
    found = _campaign(request, program)
    return web.json_response(await _read(services, campaign_reports.status, found.name))


async def get_report(request: web.Request) -> web.Response:
    services, program = authorised(request)
    found = _campaign(request, program)
    return web.json_response(await _read(services, campaign_reports.report, found.name))


async def get_preview(request: web.Request) -> web.Response:
    services, program = authorised(request)
    found = _campaign(request, program)
    settings = services.settings
    shown = await _read(
        services,
        campaign_reports.preview,
        found,
        program,
        datetime.now(UTC),
        settings.short_link_base,
        settings.price_per_segment,
        settings.currency,
    )
    return web.json_response(dataclasses.asdict(shown))


async def send(request: web.Request) -> web.Response:
    services, program = authorised(request)
    found = _campaign(request, program)
    options = await _options(request)
    started_by = f"api from {client_address(request)}"
    started = await _write(
        services, start_now, found, program, services, started_by, options.get("again") is True
    )
    return web.json_response(dataclasses.asdict(started), status=201)


def start_now(
    conn: Any, found: Campaign, program: Program, services: Services, started_by: str, again: bool
) -> campaigns.Started:
    quiet = services.settings.quiet_hours
    return campaigns.start(conn, found, program, quiet, datetime.now(UTC), started_by, again=again)


async def _options(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=len(raw))
    try:
        options = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text='expected JSON such as {"again": true}\n') from None
    if not isinstance(options, dict):
        raise web.HTTPBadRequest(text='expected a JSON object such as {"again": true}\n')
    return options


def _action(change: Callable[..., Any]) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        services, program = authorised(request)
        found = _campaign(request, program)
        await _write(services, change, found.name, datetime.now(UTC))
        return web.json_response(await _read(services, campaign_reports.status, found.name))

    return handler


async def pick_winner(request: web.Request) -> web.Response:
    services, program = authorised(request)
    found = _campaign(request, program)
    options = await _options(request)
    variant = options.get("variant")
    if "variant" not in options or (variant is not None and not isinstance(variant, str)):
        raise web.HTTPBadRequest(text='expected {"variant": "b"} or {"variant": null}\n')
    await _write(services, campaigns.pick_winner, found.name, variant, datetime.now(UTC))
    return web.json_response(await _read(services, campaign_reports.status, found.name))


pause = _action(campaigns.pause)
resume = _action(campaigns.resume)
cancel = _action(campaigns.cancel)
retry = _action(campaigns.retry_failed)


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/api/campaigns", list_campaigns)
    router.add_get("/api/campaigns/{name}", get_status)
    router.add_get("/api/campaigns/{name}/preview", get_preview)
    router.add_get("/api/campaigns/{name}/report", get_report)
    router.add_post("/api/campaigns/{name}/send", send)
    router.add_post("/api/campaigns/{name}/winner", pick_winner)
    for verb, handler in (("pause", pause), ("resume", resume), ("cancel", cancel), ("retry", retry)):
        router.add_post(f"/api/campaigns/{{name}}/{verb}", handler)
