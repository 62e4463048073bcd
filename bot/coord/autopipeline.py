"""Script calls made within one event-loop tick, sent to Redis as one pipeline."""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

_Call = tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]


class AutoPipeline:
    """Send the script calls made within one event-loop tick to Redis as one pipeline.

    A committed batch wakes all its handlers in the same tick; without this, each would pay its
    own round trip to release its lock. Each caller still gets its own result or error. Scripts go
    as bare EVALSHA: redis-py would otherwise ask SCRIPT EXISTS before every pipeline. The calls are
    packed by hiredis and written on a pooled connection straight away: redis-py's own pipeline
    costs twice the CPU for the same bytes (~34 against ~15 µs a call, measured), and every inbound
    message makes three calls.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._pending: list[_Call] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run `script` in the next pipeline; its own result, or its own error."""
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

    async def _execute(self, batch: list[_Call]) -> list[Any]:
        """Each call's reply or its error (a ResponseError), in order, in one round trip."""
        pool = self._client.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]  # redis-py's
        try:
            # As redis-py's pipeline: a broken connection is dropped (the next use reconnects) and
            # the batch tried again as often as the connection's retry policy says.
            replies: list[Any] = await conn.retry.call_with_retry(
                lambda: _round_trip(conn, batch), lambda _error: conn.disconnect()
            )
            return replies
        finally:
            await pool.release(conn)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            results = await self._execute(batch)
            if any(isinstance(r, NoScriptError) for r in results):
                # Redis restarted or was flushed of scripts: load them and run the lost calls again.
                for script in {id(s): s for s, *_ in batch}.values():
                    script.sha = await self._client.script_load(script.script)
                again = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
                for i, result in zip(again, await self._execute([batch[i] for i in again]), strict=True):
                    results[i] = result
        except asyncio.CancelledError:  # shut down mid-call: nobody may wait for a reply forever
            for *_, future in batch:
                future.cancel()
            raise
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


async def _round_trip(conn: AbstractConnection, batch: list[_Call]) -> list[Any]:
    packed = b"".join(
        hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args))
        for script, keys, args, _ in batch
    )
    await conn.send_packed_command(packed)
    replies: list[Any] = []
    # A read cut off (cancelled, timed out, broken) drops the connection in redis-py: the replies
    # still on the socket are never read by the next borrower.
    for _ in batch:
        try:
            replies.append(await conn.read_response())
        except ResponseError as error:  # this call's own error (NOSCRIPT, a script's)
            replies.append(error)
    return replies
