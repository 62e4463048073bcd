"""Group commit: inbound messages and delivery reports queue here and are applied in batches, one
transaction each. Every write of the web processes goes through here.

While one batch commits, the next one gathers (on SQLite, whose batches run on the event loop, it
gathers while another process holds the writer lock), so under load a commit (and its fsync) is
shared by many writes, and when idle a write waits for nobody.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.channels.base import StatusReport
from bot.domain.inbound import InboundMessage
from bot.domain.model import Program
from bot.domain.outcome import Policy
from bot.domain.phones import region_of
from bot.logs import REQUEST_ID
from bot.pipeline.apply import Applied, apply_batch
from bot.pipeline.clicks import Click, record_clicks
from bot.pipeline.statuses import record_statuses
from bot.pipeline.store_events import EventBatch, Recorded, record_batches
from bot.store.db import WriteTransactions, take_write_lock

log = logging.getLogger(__name__)

CLICK_BACKLOG = 2_000  # writes queued: past this, a tap waits for its click to be stored
SLOW_BATCH = 0.05  # seconds; a commit slower than this holds up every webhook behind it


class Probe:
    """A write that writes nothing: can the database take a write now? (`/healthz`)"""


Work = InboundMessage | StatusReport | Click | EventBatch | Probe
_Item = tuple[Work, asyncio.Future[Any]]


class StoreUnavailable(RuntimeError):
    pass


class Writer:
    def __init__(
        self,
        engine: AsyncEngine,
        database_url: str,
        program: Callable[[], Program],
        policy: Policy,
        max_batch: int = 200,
    ) -> None:
        self._transactions = WriteTransactions(engine, database_url, on_loop=True)
        self._program = program
        self._policy = policy
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="writer")

    async def close(self) -> None:
        """Apply everything already queued, then stop."""
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None
        self._transactions.close()

    async def submit(self, message: InboundMessage) -> Applied:
        applied: Applied = await self._put(message)
        return applied

    async def report(self, status: StatusReport) -> bool:
        """Record a delivery report; False when it names no message of ours."""
        found: bool = await self._put(status)
        return found

    def click(self, tap: Click) -> Awaitable[Any] | None:
        """Record a tap on a tracked link. The tap is answered without waiting for the commit
        (nothing a carrier or a store retries hangs on it), unless the writer is behind by more than
        CLICK_BACKLOG writes: then the tap waits for what this returns, its turn, and a flood of taps
        slows down, never piles up."""
        future = self._enqueue(tap)
        if self._queue.qsize() > CLICK_BACKLOG:
            return asyncio.shield(future)
        future.add_done_callback(_retrieved)
        return None

    async def events(self, batch: EventBatch) -> Recorded:
        """Store a store's events (one call, one webhook), after commit."""
        recorded: Recorded = await self._put(batch)
        return recorded

    async def probe(self) -> None:
        """Return once a write transaction could be opened and committed (behind queued writes)."""
        await self._put(Probe())

    async def _put(self, work: Work) -> Any:
        # Shielded: a caller that goes away (carrier hung up) must not cancel a commit under way.
        return await asyncio.shield(self._enqueue(work))

    def _enqueue(self, work: Work) -> asyncio.Future[Any]:
        if self._task is None:
            raise RuntimeError("writer is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((work, future))
        return future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            await self._transactions.lock_free()  # what comes meanwhile joins this batch
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._apply(batch)

    async def _apply(self, batch: list[_Item]) -> None:
        started = time.perf_counter()
        sids = [w.message_sid for w, _ in batch if isinstance(w, InboundMessage)]
        REQUEST_ID.set(",".join(sids[:20]) or None)  # the writer's log names the messages of its batch
        for work, _ in batch:
            if isinstance(work, InboundMessage):
                # A new subscriber's row needs their country; region_of keeps what it worked out, so
                # the pattern matching it costs is done here, not while the write lock is held.
                region_of(work.sender)
        try:
            results = await self._commit(batch)
        except Exception:
            if len(batch) == 1:
                log.exception("a write could not be stored")
                _fail(batch[0][1])
                return
            # One bad message must not fail its neighbours: retry each on its own.
            log.warning("batch of %d failed; retrying one by one", len(batch), exc_info=True)
            for item in batch:
                await self._apply([item])
            return
        took = time.perf_counter() - started
        metrics.WRITER_BATCH.observe(len(batch))
        metrics.WRITER_SECONDS.observe(took)
        if took > SLOW_BATCH:
            log.warning("slow commit: %d writes took %.0f ms", len(batch), took * 1000)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _commit(self, batch: list[_Item]) -> list[Any]:
        work = [w for w, _ in batch]
        try:
            return await self._transactions.run(
                apply_work, work, self._program(), self._policy, datetime.now(UTC)
            )
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The server dropped the connection (a restart): once more on a new one, as the one-by-one
            # retry would (inbound messages are known by their MessageSid: none is applied twice).
            log.warning("the database connection was lost (%s); trying the batch again", exc.orig)
            return await self._transactions.run(
                apply_work, work, self._program(), self._policy, datetime.now(UTC)
            )


def apply_work(
    conn: Connection, work: Sequence[Work], program: Program, policy: Policy, now: datetime
) -> list[Applied | bool | str | None]:
    """One transaction for a batch: inbound messages in order, then delivery reports, clicks and
    store events; a probe only takes the write lock."""
    inbound = [w for w in work if isinstance(w, InboundMessage)]
    reports = [w for w in work if isinstance(w, StatusReport)]
    taps = [w for w in work if isinstance(w, Click)]
    shops = [w for w in work if isinstance(w, EventBatch)]
    if any(isinstance(w, Probe) for w in work):
        take_write_lock(conn)
    results: dict[type, Iterator[Any]] = {
        InboundMessage: iter(apply_batch(conn, inbound, program, policy, now) if inbound else []),
        StatusReport: iter(record_statuses(conn, reports, now) if reports else []),
        Click: iter(record_clicks(conn, taps)),
        EventBatch: iter(
            record_batches(conn, [b.events for b in shops], program.flows, policy.attribution, now)
            if shops
            else []
        ),
        Probe: iter(lambda: True, None),  # a probe: the write could be taken
    }
    return [next(results[type(w)]) for w in work]


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A write nobody waits for: its failure was logged where it happened."""
    if not future.cancelled():
        future.exception()


def _fail(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(StoreUnavailable("the write could not be stored"))
