"""The dashboard's Keywords page: each keyword with the texts it received and the opt-ins it
brought, and each opt-in keyword's poster (its `sms:` link, QR code and printable SVG)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain.model import KeywordKind
from bot.domain.posters import Poster, PosterProblem, poster
from bot.http.admin import read
from bot.services import SERVICES
from bot.store.schema import consent_events, keyword_events

KINDS = {"poster.svg": "image/svg+xml", "qr.svg": "image/svg+xml", "qr.png": "image/png"}


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/keywords", listing)
    app.router.add_get("/dashboard/keywords/{keyword}/{file}", poster_file)


@auth.logged_in
async def listing(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    program = services.program.current
    texts, opt_ins = await read(services, _counts)
    rows = [
        {
            "name": k.name,
            "kind": k.kind.value,
            "texts": texts.get(k.name, 0),
            "opt_ins": opt_ins.get(k.source, 0) if k.kind is KeywordKind.OPT_IN else None,
            "link": _poster(request, k.name).link
            if k.kind is KeywordKind.OPT_IN and services.settings.texted_number
            else None,
        }
        for k in program.keywords.values()
    ]
    return render(request, "keywords.html", keywords=rows, number=services.settings.texted_number)


@auth.logged_in
async def poster_file(request: web.Request) -> web.StreamResponse:
    kind = KINDS.get(request.match_info["file"])
    if kind is None:
        raise web.HTTPNotFound()
    made = _poster(request, request.match_info["keyword"])
    body = {
        "poster.svg": lambda: made.poster_svg(request.app[SERVICES].program.current.info),
        "qr.svg": made.qr_svg,
        "qr.png": made.qr_png,
    }[request.match_info["file"]]()
    return web.Response(body=body, content_type=kind, headers={"Cache-Control": "no-store"})


def _poster(request: web.Request, name: str) -> Poster:
    services = request.app[SERVICES]
    found = services.program.current.keywords.get(name)
    if found is None or found.kind is not KeywordKind.OPT_IN:
        raise web.HTTPNotFound(text=f"no opt-in keyword {name}\n")
    try:
        return poster(found, services.settings.texted_number)
    except PosterProblem as exc:
        raise web.HTTPNotFound(text=f"{exc}\n") from None


def _counts(conn: Connection) -> tuple[dict[str, int], dict[str, int]]:
    """Texts received per keyword (misspellings and alternates under it), opt-ins per source."""
    texts = conn.execute(select(keyword_events.c.keyword, func.count()).group_by(keyword_events.c.keyword))
    opt_ins = conn.execute(
        select(consent_events.c.source, func.count())
        .where(consent_events.c.to_status == "subscribed")
        .group_by(consent_events.c.source)
    )
    return {str(k): int(n) for k, n in texts}, {str(s): int(n) for s, n in opt_ins}
