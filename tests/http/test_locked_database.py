"""A database that cannot take a write: the carrier gets a 503 before its 15 s timeout (so it uses
its fallback URL), health says so, and once the lock is gone every message is taken once."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import make_url

from tests.conftest import ADMIN, ClientFactory, Phone, messages


@asynccontextmanager
async def write_lock_held(database_url: str) -> AsyncIterator[None]:
    """Another process holding the database's write lock (SQLite) or its tables (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import asyncpg

    pg = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    transaction = pg.transaction()
    await transaction.start()
    await pg.execute("LOCK TABLE messages, subscribers IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await transaction.rollback()
        await pg.close()


async def test_a_locked_database_gets_a_503_in_time_and_health_says_it_is_down(
    make_client: ClientFactory, database_url: str
) -> None:
    app = await make_client(answer_within=2.0, admin_token="admin-secret")
    phone = Phone(app)
    form = phone.form("JOIN")
    async with write_lock_held(database_url):
        started = time.monotonic()
        response = await phone.post(form)
        took = time.monotonic() - started
        assert response.status == 503 and response.headers["Retry-After"] == "1"
        assert took < 4, took
        health = await app.get("/healthz")
        assert health.status == 503 and (await health.json())["down"] == ["database"]
    await asyncio.sleep(0.5)
    again = await phone.post(form)  # the carrier tries again with the same MessageSid
    assert again.status == 200 and "Thanks for joining" in await again.text()
    assert (await app.get("/healthz")).status == 200
    inbound = [m for m in await messages(app) if m["direction"] == "inbound"]
    assert len(inbound) == 1


async def test_health_is_ok_when_the_database_takes_writes(make_client: ClientFactory) -> None:
    app: Any = await make_client(admin_token="admin-secret")
    response = await app.get("/healthz")
    assert response.status == 200 and (await response.json())["checks"] == {"database": "ok", "redis": "ok"}
    assert (await app.get("/api/subscribers/+14155550123", headers=ADMIN)).status == 404
