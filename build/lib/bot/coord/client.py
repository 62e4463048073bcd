"""The Redis connection: the embedded server under the data directory, or REDIS_URL's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis

from bot.coord.embedded import EmbeddedRedis

CONNECTIONS = 64  # per process


def connect(url: str) -> aioredis.Redis:
    # A bounded pool that waits for a free connection: a burst must queue for Redis, not open
    # hundreds of sockets at once (a unix socket refuses them with EAGAIN past its backlog).
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=CONNECTIONS, timeout=5, socket_timeout=5, socket_connect_timeout=5
    )
    return aioredis.Redis(connection_pool=pool)


@asynccontextmanager
async def redis_server(url: str | None, data_dir: Path) -> AsyncIterator[str]:
    """`url`, or the embedded server's (started, or joined if another process started it)."""
    if url is not None:
        yield url
        return
    embedded = EmbeddedRedis(data_dir)
    try:
        yield await embedded.start()
    finally:
        await embedded.stop()


@asynccontextmanager
async def redis_client(url: str | None, data_dir: Path) -> AsyncIterator[aioredis.Redis]:
    async with redis_server(url, data_dir) as address:
        client = connect(address)
        try:
            yield client
        finally:
            await client.aclose()
