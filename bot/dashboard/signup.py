"""The sign-up page, `/join/{form}`: a phone field and an unchecked consent box with the disclosure
the CTIA and TCPA expect. Submitting sends the double opt-in text ("Reply Y"); the opt-in source is
`web:{form}`. Throttled per number and per client address, so it cannot be used to text strangers
again and again. Embeddable: `<iframe src="https://.../join/{form}">`."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bot.dashboard.render import render_public
from bot.domain.store_events import EventProblem, store_phone
from bot.http.admin import write
from bot.http.clients import client_address
from bot.pipeline.signups import sign_up
from bot.services import SERVICES, Services

FORM = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
COOKIE = "smsbot_join"
PER_NUMBER, NUMBER_WINDOW = 3, 24 * 3600  # texts asked for one number a day
PER_ADDRESS, ADDRESS_WINDOW = 10, 3600  # sign-ups from one client address an hour


POPUP = Path(__file__).parent / "static" / "popup.js"


def setup(app: web.Application) -> None:
    app.router.add_get("/join/{form}", page)
    app.router.add_post("/join/{form}", submit)
    app.router.add_get("/join/{form}/popup.js", popup)


async def popup(request: web.Request) -> web.StreamResponse:
    """The pop-up list builder for the store's pages: it opens this form in a dialog."""
    _form(request)
    response = web.Response(body=POPUP.read_bytes(), content_type="application/javascript", charset="utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


async def page(request: web.Request) -> web.StreamResponse:
    form = _form(request)
    token = secrets.token_urlsafe(18)
    response = _render(request, form, token)
    # Inside the brand's own site (an iframe) only a SameSite=None cookie comes back, and browsers
    # take that only over https; on plain http (a local trial) the page works on its own.
    embedded = (request.app[SERVICES].settings.public_url or "").startswith("https://")
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="None" if embedded else "Lax",
        secure=embedded,
        max_age=3600,
        path="/join",
    )
    return response


async def submit(request: web.Request) -> web.StreamResponse:
    services, form = request.app[SERVICES], _form(request)
    data = await request.post()
    token, cookie = data.get("token"), request.cookies.get(COOKIE, "")
    if not isinstance(token, str) or not cookie or not hmac.compare_digest(token.encode(), cookie.encode()):
        raise web.HTTPForbidden(text="the form's token is missing or wrong: reload the page\n")
    typed = str(data.get("phone") or "")[:40]  # shown again with an error: nobody types it twice
    if data.get("consent") != "yes":
        error = "Tick the box to agree to receive texts."
        return _render(request, form, token, error=error, status=400, typed=typed)
    try:
        phone = store_phone(typed, services.settings.store_country)
    except EventProblem:
        error = "That does not look like a mobile number."
        return _render(request, form, token, error=error, status=400, typed=typed)
    address = client_address(request)
    if not await _allowed(services, f"address:{address}", PER_ADDRESS, ADDRESS_WINDOW) or not await _allowed(
        services, f"number:{phone}", PER_NUMBER, NUMBER_WINDOW
    ):
        return _render(
            request, form, token, error="Too many sign-ups: try again later.", status=429, typed=typed
        )
    program = services.program.current
    await write(services, sign_up, phone, form, address, program, datetime.now(UTC))
    # The same answer whoever the number belongs to: the page tells nobody who is subscribed.
    return render_public("joined.html", program=program.info.name, brand=program.info.brand)


def _render(
    request: web.Request,
    form: str,
    token: str,
    error: str | None = None,
    status: int = 200,
    typed: str = "",
) -> web.Response:
    services = request.app[SERVICES]
    info = services.program.current.info
    return render_public(
        "join.html",
        status=status,
        form=form,
        token=token,
        error=error,
        typed=typed,
        program=info.name,
        brand=info.brand,
        frequency=info.frequency,
        help_contact=info.help_contact,
        terms_url=services.settings.terms_url,
        privacy_url=services.settings.privacy_url,
    )


async def _allowed(services: Services, what: str, most: int, window: int) -> bool:
    assert services.redis is not None
    name = f"{services.settings.redis_prefix}signup:{what}"
    seen = int(await services.redis.incr(name))
    if seen == 1:
        await services.redis.expire(name, window)
    return seen <= most


def _form(request: web.Request) -> str:
    form = request.match_info["form"]
    if not FORM.fullmatch(form):
        raise web.HTTPNotFound(text="no such sign-up form\n")
    return form
