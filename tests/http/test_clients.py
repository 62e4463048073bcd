"""The client's address behind the operator's load balancer: read from X-Forwarded-For only when
the request came from a trusted proxy, so each client has its own throttle and audit entry."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

from sqlalchemy import select

from bot.store.schema import audit_log
from tests.conftest import ClientFactory, services_of
from tests.dashboard.test_auth import PASSWORD

TOKEN_FIELD = 'name="login_token" value="'


async def failed_login(app: Any, forwarded: str | None) -> int:
    page = await (await app.get("/dashboard/login")).text()
    token = page.split(TOKEN_FIELD)[1].split('"')[0]
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    response = await app.post(
        "/dashboard/login", data={"login_token": token, "password": "guess"}, headers=headers
    )
    return int(response.status)


async def addresses(app: Any) -> list[str]:
    async with services_of(app).engine.connect() as conn:
        return list((await conn.execute(select(audit_log.c.address).order_by(audit_log.c.id))).scalars())


async def test_behind_a_trusted_proxy_each_client_is_its_own_address(make_client: ClientFactory) -> None:
    app = await make_client(dashboard_password=PASSWORD, trusted_proxies=(ip_network("127.0.0.0/8"),))
    for _ in range(5):
        assert await failed_login(app, "198.51.100.7") == 401
    assert await failed_login(app, "198.51.100.7") == 429  # that client's door is closed
    assert await failed_login(app, "203.0.113.9") == 401  # another client's is not
    # What a client writes itself comes first; the proxy appends the address it saw.
    assert await failed_login(app, "198.51.100.99, 203.0.113.9") == 401
    assert await failed_login(app, "not an address, 127.0.0.1") == 401  # unreadable: the proxy's
    assert await addresses(app) == [
        *["198.51.100.7"] * 5,
        "203.0.113.9",
        "203.0.113.9",
        "127.0.0.1",
    ]


async def test_the_header_from_anyone_else_is_ignored(make_client: ClientFactory) -> None:
    app = await make_client(dashboard_password=PASSWORD)
    assert await failed_login(app, "198.51.100.7") == 401
    assert await failed_login(app, None) == 401
    assert await addresses(app) == ["127.0.0.1", "127.0.0.1"]
