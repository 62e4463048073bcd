"""Duplicate-delivery claims, per-subscriber locks and reply replays, in Redis.

Redis only speeds things up and keeps order; correctness never rests on it. If Redis forgets a
claim, the unique MessageSid in the database still stops a second application, and if a lock
expires, the database transaction (BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL)
still serialises the writes.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import weakref
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis

from bot.coord.autopipeline import AutoPipeline
from bot.coord.scripts import register

PENDING = b"P"  # claim value while the first delivery is being handled
DONE = b"R"  # prefix of the stored reply


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
        pipeline: AutoPipeline | None = None,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self._replay_ms = replay_ttl * 1000
        self._lock_ms = int(lock_ttl * 1000)
        self._in_flight_ms = int(in_flight_ttl * 1000)
        self._begin = register(client, "claim_begin")
        self._lock = register(client, "claim_lock")
        self._finish = register(client, "claim_finish")
        self._abandon = register(client, "claim_abandon")
        self._call = pipeline or AutoPipeline(client)
        self._process = secrets.token_hex(6)
        self._tokens = itertools.count()
        # Waiters in this process queue on a local lock instead of polling Redis.
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _claim_key(self, sid: str) -> str:
        return f"{self.prefix}sid:{sid}"

    def _lock_key(self, phone: str) -> str:
        return f"{self.prefix}lock:{phone}"

    def token(self) -> str:
        """A lock owner's name: unique across processes without a syscall per message."""
        return f"{self._process}{next(self._tokens)}"

    def local_lock(self, phone: str) -> asyncio.Lock:
        lock = self._local.get(phone)
        if lock is None:
            lock = asyncio.Lock()
            self._local[phone] = lock
        return lock

    async def begin(self, sid: str, phone: str, token: str) -> Claim:
        """Claim a MessageSid and try the subscriber's lock, in one round trip."""
        value, locked = await self._call(
            self._begin,
            [self._claim_key(sid), self._lock_key(phone)],
            [token, self._in_flight_ms, self._lock_ms],
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
            if await self._call(self._lock, [self._lock_key(phone)], [token, self._lock_ms]):
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
            value = await self.redis.get(self._claim_key(sid))  # bytes: no decode_responses
            if value is None:
                return None
            if isinstance(value, bytes) and value.startswith(DONE):
                return value[1:].decode()
            await asyncio.sleep(0.01)
        return None

    async def finish(self, sid: str, phone: str, token: str, reply: str) -> None:
        keys = [self._claim_key(sid), self._lock_key(phone)]
        await self._call(self._finish, keys, [token, reply, self._replay_ms])

    async def abandon(self, sid: str, phone: str, token: str) -> None:
        await self._call(self._abandon, [self._claim_key(sid), self._lock_key(phone)], [token])
