"""A second factor for a named user: set up on their account page with an authenticator app's
code, then asked at each login (a code taken once only), or one of ten recovery codes (each good
once); an admin turns it off for a lost phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from bot.store.schema import audit_log, users
from tests.conftest import ClientFactory, services_of
from tests.dashboard.test_auth import PASSWORD, log_in
from tests.dashboard.test_users import SECRET, smsbot_users


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    client = await make_client(dashboard_password=PASSWORD)
    assert smsbot_users(client, "add", "mark", "--role", "marketer").returncode == 0
    return client


async def csrf(app: Any, path: str = "/dashboard/account") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', await (await app.get(path)).text())
    assert found is not None
    return found.group(1)


async def set_up(app: Any) -> tuple[str, list[str]]:
    """Mark turns the second factor on; its secret and the recovery codes shown."""
    assert (await log_in(app, SECRET, name="mark")).status == 302
    started = await app.post("/dashboard/account/second-factor/start", data={"csrf": await csrf(app)})
    page = await started.text()
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn in the page
    found = re.search(r'<code id="secret">([^<]+)</code>', page)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    wrong = await app.post(
        "/dashboard/account/second-factor/confirm", data={"csrf": await csrf(app), "code": "000000"}
    )
    assert wrong.status == 400 and "wrong code" in await wrong.text()
    code = pyotp.TOTP(secret).now()
    done = await app.post(
        "/dashboard/account/second-factor/confirm", data={"csrf": await csrf(app), "code": code}
    )
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", await done.text())
    assert done.status == 200 and len(codes) == 10
    return secret, codes


async def code_page(app: Any) -> str:
    response = await log_in(app, SECRET, name="mark")
    assert response.status == 200  # the password was right: the code is asked, no session yet
    page = await response.text()
    assert "The 6 digits your authenticator app shows" in page
    assert (await app.get("/dashboard", allow_redirects=False)).status == 302
    found = re.search(r'name="pending" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def send_code(app: Any, pending: str, code: str) -> Any:
    token = app.session.cookie_jar.filter_cookies(app.make_url("/dashboard/login"))["smsbot_login"].value
    form = {"login_token": token, "pending": pending, "code": code}
    return await app.post("/dashboard/login/code", data=form, allow_redirects=False)


async def test_a_code_is_asked_after_the_password_and_each_code_is_taken_once(app: Any) -> None:
    secret, _ = await set_up(app)
    async with services_of(app).engine.connect() as conn:
        assert (
            await conn.execute(select(users.c.totp_secret).where(users.c.name == "mark"))
        ).scalar_one() == secret
    await app.post("/dashboard/logout", data={"csrf": await csrf(app)})
    pending = await code_page(app)
    wrong = await send_code(app, pending, "123456")
    assert wrong.status == 401 and "Wrong code." in await wrong.text()
    code = pyotp.TOTP(secret).now()
    assert (await send_code(app, pending, code)).status == 302
    assert (await app.get("/dashboard", allow_redirects=False)).status == 200
    await app.post("/dashboard/logout", data={"csrf": await csrf(app)})
    again = await send_code(app, await code_page(app), code)  # the same code, seen: never again
    assert again.status == 401
    late = pyotp.TOTP(secret).at(datetime.now(UTC) - timedelta(minutes=5))
    assert (await send_code(app, await code_page(app), late)).status == 401
    found = [(r.action, r.detail) for r in (await rows(app)) if r.user_name == "mark"]
    assert ("second_factor_on", "mark") in found and ("login", "second factor") in found
    assert found.count(("login_failed", "second factor")) == 3


async def test_a_recovery_code_logs_in_once_and_a_forged_pending_login_opens_nothing(app: Any) -> None:
    _, codes = await set_up(app)
    await app.post("/dashboard/logout", data={"csrf": await csrf(app)})
    assert (await send_code(app, "forged-token", codes[0])).status == 302  # back to the login
    assert (await app.get("/dashboard", allow_redirects=False)).status == 302
    assert (await send_code(app, await code_page(app), codes[0].upper())).status == 302
    await app.post("/dashboard/logout", data={"csrf": await csrf(app)})
    assert (await send_code(app, await code_page(app), codes[0])).status == 401  # used
    assert ("login", "recovery code, 9 left") in [(r.action, r.detail) for r in await rows(app)]


async def test_an_admin_turns_a_lost_phones_second_factor_off(app: Any) -> None:
    await set_up(app)
    off = smsbot_users(app, "second-factor-off", "mark", password=None)
    assert off.returncode == 0 and "second factor of mark off; sessions ended: 1" in off.stdout, off.stderr
    assert (await app.get("/dashboard", allow_redirects=False)).status == 302  # ended
    assert (await log_in(app, SECRET, name="mark")).status == 302  # the password alone again


async def rows(app: Any) -> list[Any]:
    async with services_of(app).engine.connect() as conn:
        return list(await conn.execute(select(audit_log).order_by(audit_log.c.id)))


async def test_the_account_pages_forms_refuse_a_forged_post(app: Any) -> None:
    assert (await log_in(app, SECRET, name="mark")).status == 302
    for path in (
        "/dashboard/account/password",
        *(f"/dashboard/account/second-factor/{s}" for s in ("start", "confirm", "off")),
    ):
        forged = await app.post(
            path, data={"current": SECRET, "new": "another long password", "code": "123456"}
        )
        assert forged.status == 403, path
    async with services_of(app).engine.connect() as conn:
        kept = (await conn.execute(select(users.c.totp_secret).where(users.c.name == "mark"))).scalar_one()
    assert kept is None and (await log_in(app, SECRET, name="mark")).status == 302  # nothing changed
