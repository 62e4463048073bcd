"""The dashboard's Keywords page: each keyword with the texts it received, the misspellings caught,
the opt-ins it brought and the double opt-ins confirmed; each opt-in source with the revenue its
subscribers brought; each opt-in keyword's poster (its `sms:` link, QR code and printable SVG)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain.activity import AllTime, money_by_owner, n_of
from bot.domain.model import KeywordKind
from bot.domain.posters import Poster, PosterProblem, poster
from bot.domain.store_events import Money
from bot.http.admin import read
from bot.services import SERVICES
from bot.store import activity

KINDS = {"poster.svg": "image/svg+xml", "qr.svg": "image/svg+xml", "qr.png": "image/png"}


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/keywords", listing)
    app.router.add_get("/dashboard/keywords/{keyword}/{file}", poster_file)


@auth.logged_in
async def listing(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    program = services.program.current
    found = await read(services, activity.totals, METRICS)
    rows = [
        {
            "name": k.name,
            "kind": k.kind.value,
            "texts": n_of(found, "texts", k.name),
            "misspelt": n_of(found, "misspelt", k.name),
            "opt_ins": n_of(found, "joined_keyword", k.name) if k.kind is KeywordKind.OPT_IN else None,
            "confirmed": n_of(found, "confirmed", k.name) if k.kind is KeywordKind.OPT_IN else None,
            "link": _poster(request, k.name).link
            if k.kind is KeywordKind.OPT_IN and services.settings.texted_number
            else None,
        }
        for k in program.keywords.values()
    ]
    return render(
        request,
        "keywords.html",
        keywords=rows,
        sources=_sources(found),
        number=services.settings.texted_number,
        site=(services.settings.public_url or f"{request.scheme}://{request.host}").rstrip("/"),
    )


METRICS = ("texts", "misspelt", "joined", "joined_keyword", "confirmed", "revenue_source")


def _sources(found: AllTime) -> list[dict[str, Any]]:
    """Each opt-in source (a keyword's, a sign-up form's): who joined through it, what they bought
    (orders credited to a message, by currency)."""
    revenue = {
        source: {currency: Money(minor, currency).amount for currency, (_, minor) in by.items()}
        for source, by in money_by_owner(found["revenue_source"]).items()
    }
    names = sorted(set(found["joined"]) | set(revenue))
    return [
        {"source": name, "joined": n_of(found, "joined", name), "revenue": revenue.get(name, {})}
        for name in names
    ]


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
