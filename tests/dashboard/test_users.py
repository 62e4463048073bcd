"""Named users with roles: added on the command line or the Users page, logged in by name, allowed
on the server only what their role may do, named in the audit log; a change of role ends their
sessions at once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy import insert, select

from bot.store.rows import new_subscriber
from bot.store.schema import audit_log, campaigns, subscribers, users
from tests.conftest import ROOT, ClientFactory, services_of
from tests.dashboard.test_auth import PASSWORD, log_in

CAMPAIGN = "/dashboard/campaigns/ofertas_de_invierno"
SECRET = "a long and private passphrase"  # every test user's password


def smsbot_users(app: Any, *args: str, password: str | None = SECRET) -> subprocess.CompletedProcess[str]:
    """`smsbot users ...` on the app's own database and Redis."""
    settings = services_of(app).settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "SMSBOT_REDIS_PREFIX": settings.redis_prefix,
        "SMSBOT_DATA_DIR": str(settings.data_dir),
    }
    stdin = None if password is None else password + "\n"
    extra = ["--password-stdin"] if password is not None and args[0] in ("add", "password") else []
    return subprocess.run(
        [sys.executable, "-m", "bot", "users", *args, *extra],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


async def csrf(app: Any, path: str = CAMPAIGN) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', await (await app.get(path)).text())
    assert found is not None, path
    return found.group(1)


async def audit(app: Any) -> list[tuple[str, str | None, str | None]]:
    async with services_of(app).engine.connect() as conn:
        rows = await conn.execute(select(audit_log).order_by(audit_log.c.id))
        return [(row.action, row.user_name, row.detail) for row in rows]


@pytest.fixture
async def team(make_client: ClientFactory) -> Any:
    """The app, with a viewer, an agent, a marketer and an admin added on the command line."""
    app = await make_client(dashboard_password=PASSWORD)
    row = {**new_subscriber("+14155550123", datetime.now(UTC)), "status": "subscribed", "language": "es"}
    async with services_of(app).engine.begin() as conn:
        await conn.execute(insert(subscribers), [row])  # someone for the campaign to go to
    for name, role in (("vera", "viewer"), ("alex", "agent"), ("mark", "marketer"), ("ada", "admin")):
        added = smsbot_users(app, "add", name, "--role", role)
        assert added.returncode == 0 and f"added {name} ({role})" in added.stdout, added.stderr
    return app


async def test_a_user_logs_in_by_name_and_the_audit_log_names_who_did_what(team: Any) -> None:
    response = await log_in(team, SECRET, name="Mark")  # names are kept in lower case
    assert response.status == 302
    assert (
        await team.post(f"{CAMPAIGN}/send", data={"csrf": await csrf(team)}, allow_redirects=False)
    ).status == 302
    assert 'class="who" href="/dashboard/account">mark · marketer<' in await (await team.get(CAMPAIGN)).text()
    found = await audit(team)
    assert found[0][:2] == ("user_add", None)  # on the command line: no dashboard user
    assert found[0][2] is not None and found[0][2].startswith("vera as viewer by cli:")
    assert found[-2:] == [("login", "mark", None), ("campaign_send", "mark", "ofertas_de_invierno")]
    async with services_of(team).engine.connect() as conn:
        kept = (await conn.execute(select(users.c.name, users.c.password_hash).order_by(users.c.name))).all()
    assert [name for name, _ in kept] == ["ada", "alex", "mark", "vera"]
    assert all(hashed.startswith("scrypt$16384$8$1$") and SECRET not in hashed for _, hashed in kept)
    assert len({hashed for _, hashed in kept}) == 4  # a salt each: the same password, four hashes


async def test_a_wrong_name_is_refused_as_a_wrong_password_is(team: Any) -> None:
    for name, password in (("nobody", SECRET), ("mark", "not the password")):
        response = await log_in(team, password, name=name)
        assert response.status == 401 and "Wrong name or password." in await response.text()
    assert (await team.get("/dashboard", allow_redirects=False)).status == 302
    assert [row[:2] for row in await audit(team)][-2:] == [
        ("login_failed", "nobody"),
        ("login_failed", "mark"),
    ]


@pytest.mark.parametrize(
    ("name", "send", "export", "upload", "add_user"),
    [
        ("vera", 403, 403, 403, 403),
        ("alex", 403, 403, 403, 403),
        ("mark", 302, 200, 403, 403),
        ("ada", 302, 200, 200, 200),
    ],
)
async def test_each_role_may_do_only_what_it_is_allowed_and_the_server_checks(
    team: Any, name: str, send: int, export: int, upload: int, add_user: int
) -> None:
    assert (await log_in(team, SECRET, name=name)).status == 302
    page = await (await team.get(CAMPAIGN)).text()
    assert ('id="send"' in page) == (send == 302)  # the button shown only to those who may
    token = await csrf(team)
    sent = await team.post(f"{CAMPAIGN}/send", data={"csrf": token}, allow_redirects=False)
    assert sent.status == send
    exported = await team.get("/dashboard/segments/all_subscribers/members.csv")
    assert exported.status == export
    form = FormData()
    form.add_field("file", b"phone,status\n+14155550199,unsubscribed\n", filename="old.csv")
    uploaded = await team.post(f"/dashboard/subscribers/import?csrf={token}", data=form)
    assert uploaded.status == upload
    added = await team.post(
        "/dashboard/users", data={"csrf": token, "name": "newcomer", "role": "admin", "password": SECRET}
    )
    assert added.status == add_user
    async with services_of(team).engine.connect() as conn:
        started = (await conn.execute(select(campaigns.c.name))).scalars().all()
    assert started == (["ofertas_de_invierno"] if send == 302 else [])  # a 403 started nothing
    page = await (await team.get(CAMPAIGN)).text()
    assert ('id="pause"' in page) == (send == 302)
    navigation = await (await team.get("/dashboard")).text()
    assert ('href="/dashboard/users"' in navigation) == (add_user == 200)


async def test_a_role_changed_on_the_users_page_ends_that_users_sessions_at_once(
    team: Any, make_client: ClientFactory
) -> None:
    marketer = await make_client(dashboard_password=PASSWORD)  # another browser, the same server
    assert (await log_in(marketer, SECRET, name="mark")).status == 302
    assert (await marketer.get(CAMPAIGN, allow_redirects=False)).status == 200
    assert (await log_in(team)).status == 302  # the shared password: an admin
    changed = await team.post(
        "/dashboard/users/mark/role", data={"csrf": await csrf(team, "/dashboard/users"), "role": "viewer"}
    )
    assert (
        changed.status == 200 and "mark as viewer: done; 1 of their sessions ended." in await changed.text()
    )
    assert (await marketer.get(CAMPAIGN, allow_redirects=False)).status == 302  # to the login
    assert (await log_in(marketer, SECRET, name="mark")).status == 302
    refused = await marketer.post(
        f"{CAMPAIGN}/send", data={"csrf": await csrf(marketer)}, allow_redirects=False
    )
    assert refused.status == 403
    assert ("user_role", "shared password", "mark as viewer") in await audit(team)


async def test_the_command_line_lists_changes_and_removes_users_and_ends_their_sessions(team: Any) -> None:
    assert (await log_in(team, SECRET, name="alex")).status == 302
    listed = smsbot_users(team, "list", "--json", password=None)
    assert [(u["name"], u["role"]) for u in json.loads(listed.stdout)] == [
        ("ada", "admin"),
        ("alex", "agent"),
        ("mark", "marketer"),
        ("vera", "viewer"),
    ]
    weak = smsbot_users(team, "password", "alex", password="short")
    assert weak.returncode == 1 and "at least 12 characters" in weak.stderr
    assert (await team.get("/dashboard", allow_redirects=False)).status == 200  # nothing changed
    removed = smsbot_users(team, "remove", "alex", "--yes", password=None)
    assert removed.returncode == 0 and "removed alex; sessions ended: 1" in removed.stdout, removed.stderr
    assert (await team.get("/dashboard", allow_redirects=False)).status == 302
    assert (await log_in(team, SECRET, name="alex")).status == 401
    unknown = smsbot_users(team, "role", "alex", "admin", password=None)
    assert unknown.returncode == 1 and "no user named 'alex'" in unknown.stderr
    again = smsbot_users(team, "add", "ada", "--role", "viewer")
    assert again.returncode == 1 and "there is already a user named 'ada'" in again.stderr


async def test_the_users_page_refuses_a_forged_form_and_escapes_what_it_was_given(team: Any) -> None:
    assert (await log_in(team, SECRET, name="ada")).status == 302
    forged = await team.post("/dashboard/users", data={"name": "eve", "role": "admin", "password": SECRET})
    assert forged.status == 403
    token = await csrf(team, "/dashboard/users")
    hostile = "<script>alert(1)</script>"
    refused = await team.post(
        "/dashboard/users", data={"csrf": token, "name": hostile, "role": "admin", "password": SECRET}
    )
    text = await refused.text()
    assert refused.status == 400 and "&lt;script&gt;" in text and hostile not in text
    weak = await team.post(
        "/dashboard/users", data={"csrf": token, "name": "eve", "role": "admin", "password": "eve"}
    )
    assert weak.status == 400 and "at least 12 characters" in await weak.text()
    listed = await (await team.get("/dashboard/users")).text()
    assert 'data-user="eve"' not in listed and 'data-user="vera"' in listed


async def test_the_audit_log_page_names_who_did_what_and_only_admins_read_it(team: Any) -> None:
    assert (await log_in(team, SECRET, name="mark")).status == 302
    assert (
        await team.post(f"{CAMPAIGN}/send", data={"csrf": await csrf(team)}, allow_redirects=False)
    ).status == 302
    assert (await team.get("/dashboard/audit")).status == 403  # a marketer
    assert (await log_in(team, SECRET, name="ada")).status == 302
    page = await (await team.get("/dashboard/audit?user=mark")).text()
    rows = re.findall(r'<tr data-action="([a-z_]+)">.*?</tr>', page)
    assert rows == ["campaign_send", "login"]  # the latest first, mark's alone
    assert "ofertas_de_invierno" in page and "campaign send" in page


async def test_a_nul_in_a_name_or_a_filter_is_a_refusal_not_a_server_error(team: Any) -> None:
    for name in ("ma\x00rk", "mark\x00", " " * 70):
        response = await log_in(team, SECRET, name=name)
        assert response.status == 401, name  # PostgreSQL cannot even be asked about it
    assert (await log_in(team, SECRET, name="ada")).status == 302
    assert (await team.get("/dashboard/audit", params={"user": "a\x00b"})).status == 200
    token = await csrf(team, "/dashboard/users")
    refused = await team.post("/dashboard/users/ma%00rk/role", data={"csrf": token, "role": "admin"})
    assert refused.status == 400
