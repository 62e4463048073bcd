"""The Users page (admins only): the team, a user added, a role changed, a password set, a user
removed. Each change is in the audit log, and ends that user's sessions at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.dashboard.session_store import close_user
from bot.domain.roles import ROLES, Permission, role_named, user_name
from bot.http.admin import read, write
from bot.pipeline import team
from bot.services import SERVICES
from bot.store import users


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/users", listing)
    app.router.add_post("/dashboard/users", add)
    app.router.add_post("/dashboard/users/{name}/{change}", change)


@auth.requires(Permission.ADMINISTER)
async def listing(request: web.Request) -> web.StreamResponse:
    return await _page(request)


async def _page(request: web.Request, problem: str | None = None, done: str | None = None) -> web.Response:
    found = await read(request.app[SERVICES], users.listing)
    response = render(request, "users.html", users=found, roles=ROLES, problem=problem, done=done)
    if problem:
        response.set_status(400)
    return response


@auth.requires(Permission.ADMINISTER)
async def add(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        made = await asyncio.to_thread(
            team.new_user, _text(form.get("name")), _text(form.get("role")), _text(form.get("password"))
        )
        await write(request.app[SERVICES], team.add, made, datetime.now(UTC))
    except (ValueError, users.UserExists) as exc:
        return await _page(request, problem=str(exc))
    await auth.audit(request, "user_add", f"{made.name} as {made.role}")
    return await _page(request, done=f"{made.name} added as {made.role}.")


@auth.requires(Permission.ADMINISTER)
async def change(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    form = await request.post()
    what = request.match_info["change"]
    try:
        name = user_name(request.match_info["name"])
        if what == "role":
            given = role_named(_text(form.get("role")))
            found = await write(services, _set_role, name, given)
            detail = f"{name} as {given}"
        elif what == "password":
            hashed = await asyncio.to_thread(team.new_password, name, _text(form.get("password")))
            found = await write(services, users.set_password, name, hashed, datetime.now(UTC))
            detail = name
        elif what == "second-factor-off":  # a lost phone: they log in with the password alone
            found = await write(services, users.set_second_factor, name, None, [])
            detail = name
        elif what == "remove":
            if form.get("confirm") != "yes":
                return await _page(request, problem="tick the box to confirm the removal")
            found = await write(services, users.remove, name)
            detail = name
        else:
            raise web.HTTPNotFound(text=f"no change {what}\n")
    except ValueError as exc:
        return await _page(request, problem=str(exc))
    if not found:
        raise web.HTTPNotFound(text=f"no user {request.match_info['name'][:60]}\n")
    assert services.redis is not None
    ended = await close_user(services.redis, services.settings.redis_prefix, name)
    await auth.audit(request, f"user_{what.replace('-', '_')}", detail)
    return await _page(request, done=f"{detail}: done; {ended} of their sessions ended.")


def _set_role(conn: Connection, name: str, role: str) -> bool:
    return users.set_role(conn, name, role_named(role))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
