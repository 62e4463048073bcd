from __future__ import annotations

from aiohttp import web

from bot.domain.links import LINK_PATH
from bot.domain.model import CARD_PATH
from bot.http import (
    admin,
    campaigns,
    events,
    flows,
    health,
    links,
    list_data,
    metrics,
    segments,
    twilio,
    vcards,
)


def setup_routes(app: web.Application) -> None:
    twilio.setup(app)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/metrics", metrics.get_metrics)
    app.router.add_get(CARD_PATH, vcards.contact_card)
    app.router.add_get(LINK_PATH, links.follow)  # and HEAD, which previews use
    app.router.add_get("/api/subscribers/{phone}", admin.get_subscriber)
    app.router.add_get("/api/subscribers/{phone}/messages", admin.get_messages)
    app.router.add_get("/api/subscribers/{phone}/export", admin.get_export)
    app.router.add_post("/api/subscribers/import", list_data.post_import)
    app.router.add_post("/api/subscribers/{phone}/erase", list_data.post_erase)
    app.router.add_get("/api/segments", segments.list_segments)
    app.router.add_get("/api/segments/{name}", segments.get_segment)
    app.router.add_get("/api/segments/{name}/members", segments.get_members)
    app.router.add_get("/api/segments/{name}/members.csv", segments.export_members)
    app.router.add_get("/api/flows/{name}/report", flows.get_report)
    campaigns.setup(app)
    events.setup(app)
