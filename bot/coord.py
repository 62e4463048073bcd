"""Coordination in Redis: duplicate-delivery claims, per-subscriber locks, reply replays.

Redis only speeds things up and keeps order; correctness never rests on it. If Redis forgets a
claim, the unique MessageSid in the database still stops a second application, and if a lock
expires, the database transaction (BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL)
still serialises the writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis

PENDING = b"P"  # claim value while the first delivery is being handled
DONE = b"R"  # prefix of the stored reply

_BEGIN = """
local claim = redis.call('GET', KEYS[1])
if claim then return {claim, 0} end
redis.call('SET', KEYS[1], 'P', 'PX', ARGV[2])
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[3]) then return {'', 1} end
return {'', 0}
"""
_LOCK = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0"
_FINISH = """
redis.call('SET', KEYS[1], 'R' .. ARGV[2], 'PX', ARGV[3])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""
_ABANDON = """
if redis.call('GET', KEYS[1]) == 'P' then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""


class ClaimState(StrEnum):
    NEW = "new"  # ours to handle
    IN_FLIGHT = "in_flight"  # another request is handling this MessageSid right now
    DONE = "done"  # handled before: replay the stored reply


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    reply: str | None  # the stored reply, for DONE
    locked: bool  # we hold the subscriber's lock


class Coordinator:
    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str = "smsbot:",
        replay_ttl: int = 86_400,
        lock_ttl: float = 30.0,
        in_flight_ttl: float = 60.0,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self._replay_ms = replay_ttl * 1000
        self._lock_ms = int(lock_ttl * 1000)
        self._in_flight_ms = int(in_flight_ttl * 1000)
        self._begin = client.register_script(_BEGIN)
        self._lock = client.register_script(_LOCK)
        self._finish = client.register_script(_FINISH)
        self._abandon = client.register_script(_ABANDON)
        # Waiters in this process queue on a local lock instead of polling Redis.
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _claim_key(self, sid: str) -> str:
        return f"{self.prefix}sid:{sid}"

    def _lock_key(self, phone: str) -> str:
        return f"{self.prefix}lock:{phone}"

    @staticmethod
    def token() -> str:
        return secrets.token_hex(8)

    def local_lock(self, phone: str) -> asyncio.Lock:
        lock = self._local.get(phone)
        if lock is None:
            lock = asyncio.Lock()
            self._local[phone] = lock
        return lock

    async def begin(self, sid: str, phone: str, token: str) -> Claim:
        """Claim a MessageSid and try the subscriber's lock, in one round trip."""
        value, locked = await self._begin(
            keys=[self._claim_key(sid), self._lock_key(phone)],
            args=[token, self._in_flight_ms, self._lock_ms],
        )
        if value == b"":
            return Claim(ClaimState.NEW, None, bool(locked))
        if value == PENDING:
            return Claim(ClaimState.IN_FLIGHT, None, False)
        return Claim(ClaimState.DONE, value[1:].decode(), False)

    async def lock(self, phone: str, token: str, patience: float) -> bool:
        """Wait for the subscriber's lock held by another process; False after `patience` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        delay = 0.002
        while True:
            if await self._lock(keys=[self._lock_key(phone)], args=[token, self._lock_ms]):
                return True
            if loop.time() + delay > deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def wait_done(self, sid: str, patience: float) -> str | None:
        """Wait for another request's reply to the same MessageSid."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while loop.time() < deadline:
            value = await self.redis.get(self._claim_key(sid))
            if value is None:
                return None
            if value.startswith(DONE):
                return bytes(value[1:]).decode()
            await asyncio.sleep(0.01)
        return None

    async def finish(self, sid: str, phone: str, token: str, reply: str) -> None:
        await self._finish(
            keys=[self._claim_key(sid), self._lock_key(phone)], args=[token, reply, self._replay_ms]
        )

    async def abandon(self, sid: str, phone: str, token: str) -> None:
        await self._abandon(keys=[self._claim_key(sid), self._lock_key(phone)], args=[token])

    @contextlib.asynccontextmanager
    async def subscriber(self, phone: str) -> AsyncIterator[None]:
        """The in-process half of a subscriber's lock."""
        async with self.local_lock(phone):
            yield
