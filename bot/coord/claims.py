"""Coordination in Redis: duplicate-delivery claims, per-subscriber locks, reply replays.

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
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from bot.coord.rate import CHARGE, bucket_key

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


class AutoPipeline:
    """Send the script calls made within one event-loop tick to Redis as one pipeline.

    A committed batch wakes all its handlers in the same tick; without this, each would pay its
    own round trip to release its lock. Each caller still gets its own result or error. Scripts go
    as bare EVALSHA: redis-py would otherwise ask SCRIPT EXISTS before every pipeline.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._pending: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((script, keys, args, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._send(batch))
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def _execute(
        self, batch: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]]
    ) -> list[Any]:
        async with self._client.pipeline(transaction=False) as pipe:
            for script, keys, args, _ in batch:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            return list(await pipe.execute(raise_on_error=False))

    async def _send(self, batch: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._execute(batch)
            if any(isinstance(r, NoScriptError) for r in results):
                # Redis restarted or was flushed of scripts: load them and run the lost calls again.
                for script in {id(s): s for s, *_ in batch}.values():
                    script.sha = await self._client.script_load(script.script)
                again = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
                for i, result in zip(again, await self._execute([batch[i] for i in again]), strict=True):
                    results[i] = result
        except Exception as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


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
        self._charge = client.register_script(CHARGE)
        self._call = AutoPipeline(client)
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

    async def charge(self, number: str, count: int, interval_ms: float, now: float) -> None:
        """Count replies against our number's sending rate (they never wait; flow steps do)."""
        await self._call(
            self._charge, [bucket_key(self.prefix, number)], [int(now * 1000), interval_ms, count]
        )

    async def abandon(self, sid: str, phone: str, token: str) -> None:
        await self._call(self._abandon, [self._claim_key(sid), self._lock_key(phone)], [token])
