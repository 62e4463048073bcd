"""The per-number sending rate, shared by every process through Redis (GCRA).

A bucket holds the theoretical arrival time (TAT) of the next message, in milliseconds. Replies
in TwiML go out through the carrier the moment we answer; they are charged to the bucket of the
number that was texted and never wait (the webhook charges them in its `finish` call). Flow steps
take only the room that is left, so a reply is never queued behind bulk at the carrier.
The clock is an argument: tests and several machines agree on it through the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

# KEYS[1] bucket; ARGV now_ms, interval_ms, burst_ms, wanted -> {granted, wait_ms}
_TAKE = """
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local burst, wanted = tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local room = math.floor((now + burst - tat) / interval)
if room < 0 then room = 0 end
local granted = math.min(room, wanted)
if granted > 0 then
  tat = tat + granted * interval
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now + burst + 1000))
end
return {granted, tostring(math.max(0, tat + interval - burst - now))}
"""
# KEYS[1] bucket; ARGV now_ms, interval_ms, count -> 1. Always succeeds: replies never wait.
CHARGE = """
local now, interval, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
tat = tat + count * interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now + 1000))
return 1
"""
# KEYS[1] bucket; ARGV interval_ms, count: give back slots taken but not used.
_REFUND = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > 0 then redis.call('SET', KEYS[1], tostring(tat - ARGV[2] * ARGV[1]), 'KEEPTTL') end
return 1
"""


@dataclass(frozen=True)
class Grant:
    granted: int
    wait: float  # seconds until the next slot opens


def bucket_key(prefix: str, number: str) -> str:
    return f"{prefix}rate:{number}"


class RateLimiter:
    def __init__(self, client: aioredis.Redis, prefix: str, per_second: float, burst: float = 0.1) -> None:
        self._client = client
        self._prefix = prefix
        self.interval_ms = 1000.0 / per_second
        # At most `burst` seconds' worth of messages at once (never less than one).
        self._burst_ms = max(self.interval_ms, per_second * burst * self.interval_ms)
        self._take = client.register_script(_TAKE)
        self._charge = client.register_script(CHARGE)
        self._refund = client.register_script(_REFUND)

    async def take(self, number: str, wanted: int, now: float) -> Grant:
        granted, wait_ms = await self._take(
            keys=[bucket_key(self._prefix, number)],
            args=[int(now * 1000), self.interval_ms, self._burst_ms, wanted],
        )
        return Grant(int(granted), float(wait_ms) / 1000)

    async def charge(self, number: str, count: int, now: float) -> None:
        await self._charge(
            keys=[bucket_key(self._prefix, number)], args=[int(now * 1000), self.interval_ms, count]
        )

    async def refund(self, number: str, count: int) -> None:
        if count > 0:
            await self._refund(keys=[bucket_key(self._prefix, number)], args=[self.interval_ms, count])
