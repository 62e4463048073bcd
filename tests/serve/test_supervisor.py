"""Several server processes against one database and one Redis, as when scaled out."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp

from tests.conftest import ROOT
from tests.servers import Server, free_port


async def test_one_number_texting_two_processes_at_once_loses_no_update(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    prefix = f"smsbot-test:{uuid.uuid4().hex}:"
    data = tmp_path / "var"
    # With the embedded defaults the second process joins the first one's Redis.
    embedded = "unix://" in redis_url
    first = await asyncio.to_thread(
        Server(data, database_url, None if embedded else redis_url, SMSBOT_REDIS_PREFIX=prefix).start
    )
    second = await asyncio.to_thread(
        Server(data, database_url, None if embedded else redis_url, SMSBOT_REDIS_PREFIX=prefix).start
    )
    try:
        async with aiohttp.ClientSession() as session:

            async def text(i: int) -> int:
                server = first if i % 2 else second
                form = {
                    "MessageSid": f"SM{uuid.uuid4().hex}",
                    "From": "+14155550123",
                    "To": "+15005550006",
                    "Body": "JOIN" if i % 3 else "STOP",
                }
                async with session.post(f"{server.url}/twilio/sms", data=form) as response:
                    return response.status

            statuses = await asyncio.gather(*(text(i) for i in range(30)))
            assert statuses == [200] * 30
            async with session.get(
                f"{first.url}/api/subscribers/+14155550123", headers={"Authorization": "Bearer admin-secret"}
            ) as response:
                record = await response.json()
            async with session.get(
                f"{second.url}/api/subscribers/+14155550123/messages",
                headers={"Authorization": "Bearer admin-secret"},
            ) as response:
                kept = (await response.json())["messages"]
    finally:
        codes = [await asyncio.to_thread(second.stop), await asyncio.to_thread(first.stop)]
    assert codes == [0, 0]

    assert len([m for m in kept if m["direction"] == "inbound"]) == 30
    status = "new"
    for entry in record["consent"]:  # each record starts where the previous ended: no lost update
        assert entry["from_status"] == status, record["consent"]
        status = entry["to_status"]
    assert record["status"] == status
    assert len(record["consent"]) >= 2


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


def test_killing_the_supervisors_process_group_leaves_no_process_behind(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    data = tmp_path / "var"
    env = {**os.environ, "SMSBOT_DATA_DIR": str(data), "DATABASE_URL": database_url, "SMSBOT_WORKERS": "2"}
    env.pop("REDIS_URL", None)  # the embedded Redis, started by the supervisor, must go too
    serve = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), "--config", str(ROOT / "config.yaml")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group, so that killing the group spares this test
    )
    try:
        deadline = time.monotonic() + 30
        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < 4:  # 2 web, 1 flow worker, Redis
            time.sleep(0.2)
            children = descendants(serve.pid)
        assert len(children) >= 4, children
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(pid) for pid in children):
            time.sleep(0.2)
        assert not [pid for pid in children if alive(pid)]
    finally:
        for pid in descendants(serve.pid) | children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
