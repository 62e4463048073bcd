"""The login's second step, for users with a second factor: the code from their authenticator app
(each time step taken once), or one of their recovery codes (each good once)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from aiohttp import web

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.dashboard.session_store import SessionUser
from bot.domain import second_factor
from bot.http.admin import read, write
from bot.http.clients import client_address
from bot.services import SERVICES, Services
from bot.store import users
from bot.store.audit import record


def setup(app: web.Application) -> None:
    app.router.add_post("/dashboard/login/code", code)


async def code(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    if auth.key(services) is None:
        return auth.off()
    form = await request.post()
    given, cookie = auth.field(form.get("login_token")), request.cookies.get(auth.LOGIN_COOKIE, "")
    if not given or not cookie or not hmac.compare_digest(given.encode(), cookie.encode()):
        raise web.HTTPForbidden(text="the login form's token is missing or wrong: reload the page\n")
    address = client_address(request)
    if await auth.failures(services, address) >= auth.MAX_FAILURES:
        raise web.HTTPTooManyRequests(text="too many failed logins from here: try again in 15 minutes\n")
    assert services.redis is not None
    pending = auth.field(form.get("pending"))
    name = await services.redis.get(auth.pending_key(services, pending)) if pending else None
    if name is None:
        raise web.HTTPFound(f"/dashboard/login?next={auth.next_page(request)}")  # too late: again
    user = await read(services, users.find, name.decode() if isinstance(name, bytes) else str(name))
    if user is None or user.totp_secret is None:
        raise web.HTTPFound("/dashboard/login")
    how = await _right(services, user, auth.field(form.get("code")))
    if how is None:
        await auth.failed(services, address)
        await write(services, record, datetime.now(UTC), address, "login_failed", "second factor", user.name)
        response = render(
            request,
            "login_code.html",
            pending=pending,
            login_token=cookie,
            next=auth.next_page(request),
            error="Wrong code.",
        )
        response.set_status(401)
        return response
    await services.redis.delete(auth.pending_key(services, pending))
    raise await auth.opened(request, SessionUser(user.name, user.role), how)


async def _right(services: Services, user: users.User, given: str) -> str | None:
    """How the code was right ("code", "recovery code, N left"), or None."""
    assert services.redis is not None and user.totp_secret is not None
    step = second_factor.step_of(user.totp_secret, given, datetime.now(UTC))
    if step is not None:
        taken = f"{services.settings.redis_prefix}dashboard:totp:{user.name}:{step}"
        fresh = await services.redis.set(taken, "1", nx=True, ex=second_factor.STEP * 4)
        return "second factor" if fresh else None  # a code seen once is never taken again
    left = second_factor.use_recovery(list(user.recovery_codes), given)
    if left is None:
        return None
    await write(services, users.set_recovery, user.name, left)
    return f"recovery code, {len(left)} left"
