from __future__ import annotations

from aiohttp import web

from bot.http import admin, health, twilio, vcards


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/twilio/sms", twilio.inbound_sms)
    app.router.add_post("/twilio/status", twilio.status_callback)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/vcards/{name}.vcf", vcards.contact_card)
    app.router.add_get("/api/subscribers/{phone}", admin.get_subscriber)
    app.router.add_get("/api/subscribers/{phone}/messages", admin.get_messages)
