"""The per-number sending rate, shared by every process through Redis (GCRA).

A bucket holds the theoretical arrival time (TAT) of the next message, in milliseconds. Replies
in the webhook's answer go out through the carrier the moment we answer; they are charged to the
bucket of the number that was texted and never wait. Flow steps take only the room that is left,
so a reply is never queued behind bulk at the carrier. The clock is an argument: tests and
several machines agree on it through the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.coord.autopipeline import AutoPipeline
from bot.coord.scripts import register


@dataclass(frozen=True)
class Grant:
    granted: int
    wait: float  # seconds until the next slot opens


class RateLimiter:
    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        per_second: float,
        burst: float = 0.1,
        pipeline: AutoPipeline | None = None,
    ) -> None:
        self._prefix = prefix
        self.interval_ms = 1000.0 / per_second
        # At most `burst` seconds' worth of messages at once (never less than one).
        self._burst_ms = max(self.interval_ms, per_second * burst * self.interval_ms)
        self._take = register(client, "rate_take")
        self._charge = register(client, "rate_charge")
        self._refund = register(client, "rate_refund")
        self._call = pipeline or AutoPipeline(client)

    def _key(self, number: str) -> str:
        return f"{self._prefix}rate:{number}"

    @property
    def burst_slots(self) -> int:
        return max(1, int(self._burst_ms // self.interval_ms))

    async def take(self, number: str, wanted: int, now: float, least: int = 1) -> Grant:
        """Up to `wanted` slots, and none until `least` are free (a batch worth a transaction);
        `least` is capped at what the bucket can ever hold."""
        least = min(least, self.burst_slots)
        granted, wait_ms = await self._call(
            self._take,
            [self._key(number)],
            [int(now * 1000), self.interval_ms, self._burst_ms, wanted, least],
        )
        return Grant(int(granted), float(wait_ms) / 1000)

    async def charge(self, number: str, count: int, now: float) -> None:
        """Count messages that already went (replies) against the number's rate; never waits."""
        await self._call(self._charge, [self._key(number)], [int(now * 1000), self.interval_ms, count])

    async def refund(self, number: str, count: int) -> None:
        if count > 0:
            await self._call(self._refund, [self._key(number)], [self.interval_ms, count])
