"""The queue of due work in Redis: a sorted set of ids scored by when they are due.

Taking an id does not remove it: its score moves to now + lease, so if the worker dies the id is
due again when the lease ends. The database stays the truth; after a Redis flush the feeder puts
every due id back from SQL (ZADD NX, so a leased id keeps its lease).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import redis.asyncio as aioredis

from bot.coord.scripts import register


class DueQueue:
    def __init__(self, client: aioredis.Redis, key: str) -> None:
        self._client = client
        self.key = key
        self._take = register(client, "due_take")

    async def add(self, due: Mapping[int, datetime | float], *, keep_existing: bool = False) -> None:
        """Queue (or reschedule) ids; `keep_existing` leaves queued ids and their leases alone."""
        if not due:
            return
        scores = {str(i): w.timestamp() if isinstance(w, datetime) else w for i, w in due.items()}
        await self._client.zadd(self.key, scores, nx=keep_existing)

    async def take(self, now: float, lease: float, limit: int) -> list[int]:
        ids = await self._take(keys=[self.key], args=[now, now + lease, limit])
        return [int(i) for i in ids]

    async def remove(self, ids: Iterable[int]) -> None:
        members = [str(i) for i in ids]
        if members:
            await self._client.zrem(self.key, *members)

    async def next_due(self) -> float | None:
        first = await self._client.zrange(self.key, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def size(self) -> int:
        return int(await self._client.zcard(self.key))
