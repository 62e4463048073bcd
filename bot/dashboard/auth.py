"""Logging in to the dashboard: a user's name and password (or the shared password, as an admin), a
signed session cookie that expires, behind it the session kept on the server (ended by a logout, by
"log out everywhere", after 30 idle minutes, when the user's role or password changes), CSRF tokens
on every form, failed logins throttled per address, each login and logout in the audit log with
who. Nothing under /dashboard answers without a session, and no action without the role for it."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from bot.dashboard import session_store, sessions
from bot.dashboard.render import SESSION, USER, render
from bot.dashboard.session_store import SHARED, SessionUser
from bot.domain import passwords
from bot.domain.roles import Permission, Role, may, user_name
from bot.http.admin import read, write
from bot.http.clients import client_address
from bot.services import SERVICES, Services
from bot.store import users
from bot.store.audit import record

COOKIE = "smsbot_session"
LOGIN_COOKIE = "smsbot_login"  # the login form's own CSRF token (double submit)
MAX_FAILURES = 5  # failed logins per address and window, then 429 until the window ends
WINDOW = 15 * 60
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def key(services: Services) -> bytes | None:
    secret = services.settings.dashboard_secret
    return sessions.key_from(secret) if secret else None


def logged_in(handler: Handler) -> Handler:
    """The page, for a logged-in session; otherwise to the login page (or a 401 if it is off)."""
    return _guarded(handler, Permission.READ)


def requires(needed: Permission) -> Callable[[Handler], Handler]:
    """An action only a role with `needed` may take: 403 for the others (the button hidden is not
    the check)."""
    return lambda handler: _guarded(handler, needed)


def _guarded(handler: Handler, needed: Permission) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        services = request.app[SERVICES]
        signing = key(services)
        if signing is None:
            return off()
        session = sessions.read(signing, request.cookies.get(COOKIE), time.time())
        user = None if session is None else await session_store.alive(services, session.sid)
        if session is None or user is None:
            raise web.HTTPFound(f"/dashboard/login?next={request.rel_url.path}")
        if not may(user.role, needed):
            raise web.HTTPForbidden(text=f"a {user.role} may not do this: ask an admin\n")
        if request.method == "POST":
            # An upload's token is in its URL: its body (a list of numbers) is read by its page.
            multipart = request.content_type == "multipart/form-data"
            token = request.query.get("csrf", "") if multipart else field((await request.post()).get("csrf"))
            if not sessions.csrf_ok(signing, session, token):
                raise web.HTTPForbidden(text="the form's CSRF token is missing or wrong: reload the page\n")
        request[SESSION] = session
        request[USER] = user
        return await handler(request)

    return guarded


async def audit(request: web.Request, action: str, detail: str | None = None) -> None:
    """The action in the audit log: when, from where, by whom."""
    user = request.get(USER)
    await write(
        request.app[SERVICES],
        record,
        datetime.now(UTC),
        client_address(request),
        action,
        detail,
        None if user is None else user.name,
    )


async def login_page(request: web.Request) -> web.StreamResponse:
    if key(request.app[SERVICES]) is None:
        return off()
    token = secrets.token_urlsafe(18)
    response = render(request, "login.html", login_token=token, next=next_page(request), error=None)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="Strict", max_age=3600, path="/dashboard"
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    signing = key(services)
    if signing is None:
        return off()
    form = await request.post()
    given, cookie = field(form.get("login_token")), request.cookies.get(LOGIN_COOKIE, "")
    if not given or not cookie or not hmac.compare_digest(given.encode(), cookie.encode()):
        raise web.HTTPForbidden(text="the login form's token is missing or wrong: reload the page\n")
    address = client_address(request)
    if await failures(services, address) >= MAX_FAILURES:
        raise web.HTTPTooManyRequests(text="too many failed logins from here: try again in 15 minutes\n")
    name = field(form.get("name")).strip().lower()[:60]
    user = await _check(services, name, field(form.get("password")))
    if user is None:
        await failed(services, address)
        await write(services, record, datetime.now(UTC), address, "login_failed", None, name or None)
        response = render(
            request,
            "login.html",
            login_token=cookie,
            next=next_page(request),
            name=name,
            error="Wrong name or password.",
        )
        response.set_status(401)
        return response
    if user.second_factor:
        return await ask_code(request, user.name)
    raise await opened(request, SessionUser(user.name, user.role))


async def opened(request: web.Request, user: SessionUser, detail: str | None = None) -> web.HTTPFound:
    """The session opened for `user` (its login in the audit log): the way to the page asked for."""
    services = request.app[SERVICES]
    signing = key(services)
    assert signing is not None
    await write(services, record, datetime.now(UTC), client_address(request), "login", detail, user.name)
    session, value = sessions.issue(signing, time.time())
    await session_store.open_session(services, session.sid, user)
    response = web.HTTPFound(next_page(request))
    secure = (services.settings.public_url or "").startswith("https://")
    response.set_cookie(
        COOKIE,
        value,
        httponly=True,
        samesite="Strict",
        secure=secure,
        max_age=sessions.LIFETIME,
        path="/dashboard",
    )
    response.del_cookie(LOGIN_COOKIE, path="/dashboard")
    return response


PENDING = 5 * 60  # seconds to type the code once the password was right


def pending_key(services: Services, token: str) -> str:
    return f"{services.settings.redis_prefix}dashboard:second:{token}"


async def ask_code(request: web.Request, name: str) -> web.Response:
    """The password was right and a second factor is set: the code's page, and a short-lived
    token saying whose (the session opens only once the code is right)."""
    services = request.app[SERVICES]
    assert services.redis is not None
    token = secrets.token_urlsafe(24)
    await services.redis.set(pending_key(services, token), name, ex=PENDING)
    return render(
        request,
        "login_code.html",
        pending=token,
        login_token=request.cookies.get(LOGIN_COOKIE, ""),
        next=next_page(request),
        error=None,
    )


@dataclass(frozen=True)
class _Checked:
    name: str
    role: Role
    second_factor: bool  # a code is asked next


async def _check(services: Services, name: str, password: str) -> _Checked | None:
    """Who logs in: a user by name, or (no name) the shared password as an admin."""
    if not name:
        secret = services.settings.dashboard_secret or ""
        if secret and hmac.compare_digest(password.encode(), secret.encode()):
            return _Checked(SHARED, Role.ADMIN, False)
        return None
    found = await read(services, users.find, name) if _possible(name) else None
    if found is None:
        await asyncio.to_thread(passwords.dummy_verify, password)  # as long as a wrong password
        return None
    if not await asyncio.to_thread(passwords.verify, found.password_hash, password):
        return None
    return _Checked(found.name, found.role, found.totp_secret is not None)


@logged_in
async def logout(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    await session_store.close(services, request[SESSION].sid)
    await audit(request, "logout")
    return _logged_out()


@logged_in
async def logout_everywhere(request: web.Request) -> web.StreamResponse:
    """Every session ends, this one too: after a lost laptop, or before a password change."""
    services = request.app[SERVICES]
    ended = await session_store.close_all(services)
    await audit(request, "logout_everywhere", str(ended))
    return _logged_out()


def _logged_out() -> web.StreamResponse:
    response = web.HTTPFound("/dashboard/login")
    response.del_cookie(COOKIE, path="/dashboard")
    raise response


async def failures(services: Services, address: str) -> int:
    assert services.redis is not None
    found = await services.redis.get(f"{services.settings.redis_prefix}dashboard:failed:{address}")
    return int(found or 0)


async def failed(services: Services, address: str) -> None:
    assert services.redis is not None
    name = f"{services.settings.redis_prefix}dashboard:failed:{address}"
    if await services.redis.incr(name) == 1:
        await services.redis.expire(name, WINDOW)


def next_page(request: web.Request) -> str:
    """Where to go once logged in: a dashboard page, never another site."""
    wanted = request.query.get("next", "")
    return (
        wanted
        if wanted.startswith("/dashboard") and "//" not in wanted and "\\" not in wanted
        else "/dashboard"
    )


def _possible(name: str) -> bool:
    """Whether `name` could be a user's (a NUL or a space never is: not worth a database read)."""
    try:
        return user_name(name) == name
    except ValueError:
        return False


def field(value: object) -> str:
    return value if isinstance(value, str) else ""


def off() -> web.Response:
    return web.Response(
        status=401, text="the dashboard is off: set SMSBOT_DASHBOARD_PASSWORD (or SMSBOT_ADMIN_TOKEN)\n"
    )
