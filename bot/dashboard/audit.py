"""The audit log (admins): what was done from the dashboard, the admin API and the command line,
the latest first: when, who, from where, what."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain.roles import Permission
from bot.http.admin import read
from bot.services import SERVICES
from bot.store.schema import audit_log

SHOWN = 200


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/audit", listing)


@auth.requires(Permission.ADMINISTER)
async def listing(request: web.Request) -> web.StreamResponse:
    who = request.query.get("user", "").strip().replace("\x00", "")[:60] or None
    found = await read(request.app[SERVICES], _latest, who)
    return render(request, "audit.html", entries=found, who=who)


def _latest(conn: Connection, who: str | None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(SHOWN)
    if who is not None:
        query = query.where(audit_log.c.user_name == who)
    return [dict(row) for row in conn.execute(query).mappings()]
