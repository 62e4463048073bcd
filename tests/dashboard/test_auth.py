"""Nothing under /dashboard answers without a login; the login is throttled, its forms carry CSRF
tokens, and each login, failure and logout is in the audit log."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.dashboard import session_store, sessions
from bot.store.schema import audit_log
from tests.conftest import ClientFactory, services_of

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(dashboard_password=PASSWORD)


async def log_in(app: Any, password: str = PASSWORD, path: str = "/dashboard/login", name: str = "") -> Any:
    """Log in with a user's name and password (no name: the shared password)."""
    page = await app.get(path)
    token = re.search(r'name="login_token" value="([^"]+)"', await page.text())
    assert token is not None
    return await app.post(
        path,
        data={"login_token": token.group(1), "name": name, "password": password},
        allow_redirects=False,
    )


async def audit(app: Any) -> list[str]:
    async with services_of(app).engine.connect() as conn:
        return [row.action for row in await conn.execute(select(audit_log).order_by(audit_log.c.id))]


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/segments", "/dashboard/program"])
async def test_every_page_sends_a_stranger_to_the_login(app: Any, path: str) -> None:
    response = await app.get(path, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == f"/dashboard/login?next={path}"


async def test_the_password_logs_in_and_the_page_asked_for_opens(app: Any) -> None:
    response = await log_in(app, path="/dashboard/login?next=/dashboard/segments")
    assert response.status == 302 and response.headers["Location"] == "/dashboard/segments"
    cookie = response.cookies["smsbot_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    page = await app.get("/dashboard/segments")
    assert page.status == 200 and "all_subscribers" in await page.text()
    assert await audit(app) == ["login"]


async def test_a_login_never_sends_one_to_another_site(app: Any) -> None:
    for wanted in ("https://evil.example/", "//evil.example/dashboard", "/dashboard/..//evil"):
        response = await log_in(app, path=f"/dashboard/login?next={wanted}")
        assert response.headers["Location"] == "/dashboard", wanted


async def test_a_wrong_password_is_refused_and_five_close_the_door_for_a_while(app: Any) -> None:
    for _ in range(5):
        response = await log_in(app, password="guess")
        assert response.status == 401 and "Wrong name or password" in await response.text()
    assert (await log_in(app)).status == 429  # even the right one, until the window ends
    assert (await app.get("/dashboard", allow_redirects=False)).status == 302
    assert await audit(app) == ["login_failed"] * 5


async def test_a_login_form_without_its_token_is_refused(app: Any) -> None:
    response = await app.post("/dashboard/login", data={"password": PASSWORD}, allow_redirects=False)
    assert response.status == 403
    assert await audit(app) == []


async def test_a_forged_or_expired_session_is_no_session(app: Any) -> None:
    key = sessions.key_from(PASSWORD)
    _, stale = sessions.issue(key, 0)  # expired in 1970
    _, other = sessions.issue(sessions.key_from("another secret"), 4e9)
    for cookie in (stale, other, "garbage", "x.y"):
        app.session.cookie_jar.update_cookies({"smsbot_session": cookie})
        assert (await app.get("/dashboard", allow_redirects=False)).status == 302, cookie


async def test_a_form_without_the_sessions_csrf_token_changes_nothing(app: Any) -> None:
    await log_in(app)
    refused = await app.post("/dashboard/logout", data={"csrf": "forged"}, allow_redirects=False)
    assert refused.status == 403
    page = await app.get("/dashboard")
    token = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert token is not None
    out = await app.post("/dashboard/logout", data={"csrf": token.group(1)}, allow_redirects=False)
    assert out.status == 302 and out.headers["Location"] == "/dashboard/login"
    assert await audit(app) == ["login", "logout"]


async def test_without_a_password_or_admin_token_the_dashboard_is_off(make_client: ClientFactory) -> None:
    off = await make_client()
    response = await off.get("/dashboard/login")
    assert response.status == 401 and "SMSBOT_DASHBOARD_PASSWORD" in await response.text()


def session_cookie(app: Any) -> str:
    return str(next(c.value for c in app.session.cookie_jar if c.key == "smsbot_session"))


async def csrf(app: Any) -> str:
    token = re.search(r'name="csrf" value="([^"]+)"', await (await app.get("/dashboard")).text())
    assert token is not None
    return token.group(1)


async def test_a_logout_ends_the_session_even_for_a_copy_of_its_cookie(
    app: Any, make_client: ClientFactory
) -> None:
    await log_in(app)
    copy = session_cookie(app)
    thief = await make_client(dashboard_password=PASSWORD)  # another browser, same server's data
    thief.session.cookie_jar.update_cookies({"smsbot_session": copy})
    assert (await thief.get("/dashboard", allow_redirects=False)).status == 200
    await app.post("/dashboard/logout", data={"csrf": await csrf(app)}, allow_redirects=False)
    assert (await thief.get("/dashboard", allow_redirects=False)).status == 302  # at once, not in 12 h


async def test_log_out_everywhere_ends_every_session(app: Any, make_client: ClientFactory) -> None:
    other = await make_client(dashboard_password=PASSWORD)
    await log_in(other)
    await log_in(app)
    out = await app.post(
        "/dashboard/logout/everywhere", data={"csrf": await csrf(app)}, allow_redirects=False
    )
    assert out.status == 302 and out.headers["Location"] == "/dashboard/login"
    for client in (app, other):
        assert (await client.get("/dashboard", allow_redirects=False)).status == 302
    assert await audit(app) == ["login", "login", "logout_everywhere"]


async def test_a_session_left_idle_ends_and_one_in_use_stays_open(app: Any) -> None:
    await log_in(app)
    services = services_of(app)
    assert services.redis is not None
    sid = sessions.read(sessions.key_from(PASSWORD), session_cookie(app), 0)
    assert sid is not None
    name = f"{services.settings.redis_prefix}dashboard:session:{sid.sid}"
    await services.redis.expire(name, 100)
    assert (await app.get("/dashboard")).status == 200
    assert await services.redis.ttl(name) > session_store.IDLE - 10  # a page keeps it open
    await services.redis.pexpire(name, 50)  # as if left alone for the idle time
    await asyncio.sleep(0.1)
    assert (await app.get("/dashboard", allow_redirects=False)).status == 302
