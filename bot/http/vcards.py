"""GET /vcards/{name}.vcf: the brand's contact card, public so the carrier can fetch it for MMS."""

from __future__ import annotations

from aiohttp import web

from bot.http.disposition import content_disposition
from bot.services import SERVICES


async def contact_card(request: web.Request) -> web.Response:
    card = request.app[SERVICES].program.current.contact_cards.get(request.match_info["name"])
    if card is None:
        raise web.HTTPNotFound(text="no such contact card\n")
    return web.Response(
        text=card.text,
        content_type="text/vcard",
        charset="utf-8",
        headers={
            "Content-Disposition": content_disposition("inline", card.filename),
            "Cache-Control": "public, max-age=300",
        },
    )
