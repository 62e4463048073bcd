"""The dashboard's campaigns: each with its status; one campaign's preview before sending (the
confirmation shows recipients and billed segments), its progress and report after; send, pause,
resume and cancel from the page, each kept in the audit log. The same functions as the API's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import USER, render
from bot.domain.campaigns import Campaign
from bot.domain.roles import Permission
from bot.http.admin import read, write
from bot.http.campaigns import latest_rounds, start_now
from bot.http.clients import client_address
from bot.pipeline import campaign_reports, campaigns
from bot.services import SERVICES

ACTIONS: dict[str, Callable[[Connection, str, datetime], None]] = {
    "pause": campaigns.pause,
    "resume": campaigns.resume,
    "cancel": campaigns.cancel,
}


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/campaigns", listing)
    app.router.add_get("/dashboard/campaigns/{name}", detail)
    app.router.add_post("/dashboard/campaigns/{name}/{action}", act)


@auth.logged_in
async def listing(request: web.Request) -> web.StreamResponse:
    program = request.app[SERVICES].program.current
    latest = await read(request.app[SERVICES], latest_rounds, list(program.campaigns))
    return render(request, "campaigns.html", campaigns=program.campaigns, latest=latest)


@auth.logged_in
async def detail(request: web.Request) -> web.StreamResponse:
    return await _detail(request)


async def _detail(request: web.Request, refused: str | None = None) -> web.StreamResponse:
    """The campaign's page; with `refused`, the reason an action was refused (409)."""
    services = request.app[SERVICES]
    found = _campaign(request)
    latest = (await read(services, latest_rounds, [found.name])).get(found.name)
    context: dict[str, Any] = {"campaign": found, "latest": latest, "refused": refused}
    if latest is None:
        context["preview"] = await read(
            services,
            campaign_reports.preview,
            found,
            services.program.current,
            datetime.now(UTC),
            services.settings.short_link_base,
            services.settings.price_per_segment,
            services.settings.currency,
        )
    else:
        context["status"] = await read(services, campaign_reports.status, found.name)
        context["report"] = await read(services, campaign_reports.report, found.name)
    response = render(request, "campaign.html", **context)
    if refused:
        response.set_status(409)
    return response


@auth.requires(Permission.MARKET)
async def act(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    found, action = _campaign(request), request.match_info["action"]
    address = client_address(request)
    try:
        if action == "send":
            program = services.program.current
            who = f"{request[USER].name} on the dashboard from {address}"
            await write(services, start_now, found, program, services, who, False)
        elif action in ACTIONS:
            await write(services, ACTIONS[action], found.name, datetime.now(UTC))
        elif action == "winner":  # an A/B test's, by hand: a variant, or none
            chosen = str((await request.post()).get("variant", ""))
            variant = None if chosen == "none" else chosen
            await write(services, campaigns.pick_winner, found.name, variant, datetime.now(UTC))
        else:
            raise web.HTTPNotFound(text=f"no action {action}\n")
    except campaigns.CampaignProblem as exc:
        return await _detail(request, str(exc))
    await auth.audit(request, f"campaign_{action}", found.name)
    raise web.HTTPFound(f"/dashboard/campaigns/{found.name}")


def _campaign(request: web.Request) -> Campaign:
    found = request.app[SERVICES].program.current.campaigns.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text=f"no campaign {request.match_info['name']}\n")
    return found
