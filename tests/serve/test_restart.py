"""SIGTERM finishes what is in flight and exits 0; nothing acknowledged is lost."""

import asyncio
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.store import db
from bot.store.schema import messages
from tests.servers import Server


async def stored_sids(database_url: str) -> set[str]:
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return set(
                (await conn.scalars(select(messages.c.sid).where(messages.c.direction == "inbound"))).all()
            )
    finally:
        await engine.dispose()


async def test_sigterm_during_a_burst_loses_nothing_acknowledged(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    server = Server(tmp_path / "var", database_url, redis_url, SMSBOT_REDIS_PREFIX=uuid.uuid4().hex)
    await asyncio.to_thread(server.start)
    acknowledged: dict[str, str] = {}  # sid -> phone
    fifty_in = asyncio.Event()

    async def text(session: aiohttp.ClientSession, i: int) -> None:
        sid = f"SM{uuid.uuid4().hex}"
        form = {"MessageSid": sid, "From": f"+1415555{i:04d}", "To": "+15005550006", "Body": "JOIN"}
        try:
            async with session.post(f"{server.url}/twilio/sms", data=form) as response:
                if response.status == 200 and "<Message" in await response.text():
                    acknowledged[sid] = form["From"]
                    if len(acknowledged) >= 50:
                        fifty_in.set()
        except aiohttp.ClientError:
            pass  # refused after shutdown began: never acknowledged, so the carrier would retry

    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(text(session, i)) for i in range(300)]
        await fifty_in.wait()
        code = await asyncio.to_thread(server.stop)
        await asyncio.gather(*tasks)

    assert code == 0, server.log.read_text()
    assert len(acknowledged) >= 50
    assert set(acknowledged) <= await stored_sids(database_url)

    # And it comes back with everything it had.
    again = Server(tmp_path / "var", database_url, redis_url)
    await asyncio.to_thread(again.start)
    phone = next(iter(acknowledged.values()))
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{again.url}/api/subscribers/{phone}", headers={"Authorization": "Bearer admin-secret"}
            ) as response,
        ):
            assert response.status == 200
            assert (await response.json())["status"] == "subscribed"
    finally:
        assert await asyncio.to_thread(again.stop) == 0


async def test_embedded_redis_stops_with_the_server(tmp_path: Path, database_url: str) -> None:
    server = Server(tmp_path / "var", database_url, redis_url=None)
    await asyncio.to_thread(server.start)
    socket = tmp_path / "var" / "redis.sock"
    assert socket.exists()
    assert await asyncio.to_thread(server.stop) == 0
    assert not socket.exists()


def children_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


async def test_a_worker_that_dies_is_replaced_and_the_port_keeps_answering(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    import os
    import signal

    from bot.serve.supervisor import EARLY_EXIT

    server = Server(tmp_path / "var", database_url, redis_url, SMSBOT_WORKERS="2")
    await asyncio.to_thread(server.start)
    try:
        assert server.process is not None
        children = await asyncio.to_thread(children_of, server.process.pid)
        assert len(children) == 3  # two serving the port, and the flow worker
        await asyncio.sleep(EARLY_EXIT + 0.5)  # a worker that dies right after starting is not restarted
        os.kill(int(children[0]), signal.SIGKILL)
        await asyncio.sleep(1.5)
        now = await asyncio.to_thread(children_of, server.process.pid)
        assert len(now) == 3 and children[0] not in now
        async with aiohttp.ClientSession() as session:
            for _ in range(10):  # the kernel spreads connections over both workers
                form = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": "+14155550123", "Body": "HELP"}
                async with session.post(f"{server.url}/twilio/sms", data=form) as response:
                    assert response.status == 200
    finally:
        assert await asyncio.to_thread(server.stop) == 0


def test_serve_stops_with_an_error_when_its_workers_cannot_start(tmp_path: Path, database_url: str) -> None:
    import socket
    import subprocess
    import sys

    from tests.conftest import ROOT

    with socket.socket() as taken:  # no SO_REUSEPORT: the workers cannot bind beside it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "serve", "--workers", "2", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **__import__("os").environ,
                "SMSBOT_DATA_DIR": str(tmp_path / "var"),
                "DATABASE_URL": database_url,
            },
        )
    assert result.returncode == 1
    assert "right after starting" in result.stderr
    assert not (tmp_path / "var" / "redis.sock").exists()  # the embedded Redis was stopped too
