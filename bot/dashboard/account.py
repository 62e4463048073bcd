"""One's own account: the password changed, a second factor set up (a QR code for an
authenticator app, then ten recovery codes shown once) or turned off with a code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import segno
from aiohttp import web

from bot.dashboard import auth
from bot.dashboard.render import SESSION, USER, render
from bot.dashboard.session_store import SHARED, close_user
from bot.domain import passwords, second_factor
from bot.http.admin import read, write
from bot.pipeline import team
from bot.services import SERVICES, Services
from bot.store import users

SETTING_UP = 10 * 60  # seconds to scan the QR code and type a first code


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/account", page)
    app.router.add_post("/dashboard/account/password", password)
    app.router.add_post("/dashboard/account/second-factor/{step:start|confirm|off}", second)


@auth.logged_in
async def page(request: web.Request) -> web.StreamResponse:
    return await _page(request)


async def _page(request: web.Request, status: int = 200, **shown: object) -> web.Response:
    who = request[USER]
    found = None if who.name == SHARED else await read(request.app[SERVICES], users.find, who.name)
    response = render(request, "account.html", account=found, shared=who.name == SHARED, **shown)
    response.set_status(status)
    return response


@auth.logged_in
async def password(request: web.Request) -> web.StreamResponse:
    services, who = request.app[SERVICES], request[USER]
    found = await read(services, users.find, who.name)
    if found is None:
        return await _page(request, 400, problem="the shared password is changed where it is set, not here")
    form = await request.post()
    if not await asyncio.to_thread(passwords.verify, found.password_hash, auth.field(form.get("current"))):
        return await _page(request, 400, problem="the current password is wrong")
    try:
        hashed = team.new_password(found.name, auth.field(form.get("new")))
    except ValueError as exc:
        return await _page(request, 400, problem=str(exc))
    await write(services, users.set_password, found.name, hashed, datetime.now(UTC))
    await auth.audit(request, "user_password", f"{found.name}, by themselves")
    assert services.redis is not None
    await close_user(
        services.redis, services.settings.redis_prefix, found.name
    )  # every session: log in again
    raise web.HTTPFound("/dashboard/login")


@auth.logged_in
async def second(request: web.Request) -> web.StreamResponse:
    services, who = request.app[SERVICES], request[USER]
    found = await read(services, users.find, who.name)
    if found is None:
        problem = "the shared password has no second factor: log in as a named user"
        return await _page(request, 400, problem=problem)
    given = auth.field((await request.post()).get("code"))
    step = request.match_info["step"]
    if step == "start":
        secret = second_factor.new_secret()
        await _keep_setting_up(services, request[SESSION].sid, secret)
        return await _page(request, setting_up=_enrolment(secret, found.name, services))
    if step == "confirm":
        return await _confirm(request, found, given)
    return await _off(request, found, given)


async def _confirm(request: web.Request, found: users.User, given: str) -> web.Response:
    """The first code from the app: the second factor on, and the recovery codes shown once."""
    services = request.app[SERVICES]
    secret = await _setting_up(services, request[SESSION].sid)
    if secret is None:
        return await _page(request, 400, problem="the set-up took too long: start again")
    if second_factor.step_of(secret, given, datetime.now(UTC)) is None:
        again = _enrolment(secret, found.name, services)
        return await _page(
            request, 400, problem="wrong code: type the one the app shows now", setting_up=again
        )
    codes = second_factor.recovery_codes()
    hashes = [second_factor.hashed(code) for code in codes]
    await write(services, users.set_second_factor, found.name, secret, hashes)
    await auth.audit(request, "second_factor_on", found.name)
    return await _page(request, recovery=codes)


async def _off(request: web.Request, found: users.User, given: str) -> web.Response:
    if found.totp_secret is None:
        return await _page(request, 400, problem="no second factor is set up")
    right = second_factor.step_of(found.totp_secret, given, datetime.now(UTC)) is not None
    if not right and second_factor.use_recovery(list(found.recovery_codes), given) is None:
        return await _page(request, 400, problem="wrong code")
    await write(request.app[SERVICES], users.set_second_factor, found.name, None, [])
    await auth.audit(request, "second_factor_off", found.name)
    return await _page(request, done="The second factor is off.")


def _enrolment(secret: str, name: str, services: Services) -> dict[str, str]:
    uri = second_factor.provisioning_uri(secret, name, services.program.current.info.brand)
    return {
        "qr": segno.make(uri, error="m").svg_data_uri(scale=4),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }


async def _keep_setting_up(services: Services, sid: str, secret: str) -> None:
    assert services.redis is not None
    await services.redis.set(
        f"{services.settings.redis_prefix}dashboard:totp-setup:{sid}", secret, ex=SETTING_UP
    )


async def _setting_up(services: Services, sid: str) -> str | None:
    assert services.redis is not None
    found = await services.redis.get(f"{services.settings.redis_prefix}dashboard:totp-setup:{sid}")
    if found is None:
        return None
    return found.decode() if isinstance(found, bytes) else str(found)
