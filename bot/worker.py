"""The worker: runs flow steps when they fall due and sends what they say, at the number's rate.

Any number of workers, on any number of machines, share one database and one Redis:
- the feeder copies due ids from SQL into Redis sorted sets (one process per interval, by a lock);
- a run id taken from Redis is advanced in one transaction with the messages it produces;
- a message id is claimed in the database (`pending` -> `dispatching`) before the carrier's API is
  called, and its result stored after. A worker killed in between leaves the row `dispatching`;
  when its lease ends another worker asks the carrier whether it arrived before sending again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.inbound import mask_phone
from bot.due import DueQueue
from bot.outbound import DryRunSender, OutboundMessage, Sender, SendResult, TwilioSender
from bot.program.model import Program
from bot.rate import RateLimiter
from bot.settings import Settings
from bot.store import outbox
from bot.store.db import WriteTransactions

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Tick:
    stepped: int = 0  # runs looked at
    sent: int = 0  # messages handed to the carrier
    wait: float | None = None  # seconds until the rate allows the next message


class Worker:
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        redis: aioredis.Redis,
        program: Callable[[], Program],
        sender: Sender,
        *,
        clock: Clock = utc_now,
        batch: int = 200,
        lease: float | None = None,
        feed_every: float = 1.0,
        lookahead: float = 5.0,
    ) -> None:
        self.settings, self.engine, self.redis = settings, engine, redis
        self.program, self.sender, self.clock = program, sender, clock
        self.batch, self.lease = batch, lease if lease is not None else settings.send_lease
        self.feed_every, self.lookahead = feed_every, lookahead
        prefix = settings.redis_prefix
        self.runs = DueQueue(redis, f"{prefix}due:runs")
        self.outbox = DueQueue(redis, f"{prefix}due:outbox")
        self.rate = RateLimiter(redis, prefix, settings.send_rate)
        self.number = settings.rate_key
        self._feed_lock = f"{prefix}feeder"
        self._token = secrets.token_hex(8)
        self._fed_at = float("-inf")
        self._transactions = WriteTransactions(engine, settings.database_url, name="worker-db")

    def close(self) -> None:
        self._transactions.close()

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; errors are logged and retried, never fatal."""
        log.info("worker started: %.3g messages/s from %s", self.settings.send_rate, _masked(self.number))
        failures = 0
        while not stop.is_set():
            try:
                tick = await self.tick()
                failures = 0
            except (aioredis.ConnectionError, aioredis.TimeoutError, OperationalError, DBAPIError) as exc:
                failures += 1
                log.error("worker: %s; trying again", exc.__class__.__name__, exc_info=failures == 1)
                tick = Tick(wait=min(30.0, 0.5 * 2**failures))
            except Exception:  # a bug must not stop every flow: log it, back off, go on
                failures += 1
                log.exception("worker: unexpected error; trying again")
                tick = Tick(wait=min(30.0, 0.5 * 2**failures))
            if tick.stepped or (tick.sent and tick.wait is None):
                await asyncio.sleep(0)  # more may be due right away
                continue
            pause = await self._idle_for(tick.wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.001, pause))

    async def _idle_for(self, rate_wait: float | None) -> float:
        """Until the next run is due, the feeder's turn, or a message may go (rate and queue allowing).

        A full bucket (a burst of replies) holds back sending only: flow steps still run on time."""
        now = self.clock().timestamp()
        nexts = [n - now for n in [await self.runs.next_due()] if n is not None]
        first_send = await self.outbox.next_due()
        if first_send is not None:
            nexts.append(max(first_send - now, rate_wait or 0.0))
        until_feed = self._fed_at + self.feed_every - now
        return max(0.0, min([0.5, until_feed, *nexts]))

    async def tick(self) -> Tick:
        """One round: feed if it is time, advance due runs, send what the rate allows."""
        if self.clock().timestamp() - self._fed_at >= self.feed_every:
            await self.feed()
        tick = Tick()
        tick.stepped = await self.step_runs()
        tick.sent, tick.wait = await self.send_due()
        return tick

    # -- feeding Redis from the database ------------------------------------------------------

    async def feed(self, force: bool = False) -> int:
        """Queue every run and message due soon, from SQL (so a Redis flush loses nothing).

        One process feeds per interval of the clock: the first to take that interval's key."""
        now = self.clock().timestamp()
        self._fed_at = now
        if not force:
            slot = f"{self._feed_lock}:{int(now // self.feed_every)}"
            ttl = int(self.feed_every * 2000)
            if not await self.redis.set(slot, self._token, nx=True, px=ttl):
                return 0
        until = self.clock() + timedelta(seconds=self.lookahead)
        limit = self.batch * 50
        async with self.engine.connect() as conn:
            runs = (await conn.execute(outbox.DUE_RUNS, {"until": until, "limit": limit})).all()
            sends = (await conn.execute(outbox.DUE_MESSAGES, {"until": until, "limit": limit})).all()
        await self.runs.add({r.id: r.due_at for r in runs}, keep_existing=True)
        await self.outbox.add({m.id: m.send_after for m in sends}, keep_existing=True)
        return len(runs) + len(sends)

    # -- flow steps ---------------------------------------------------------------------------

    async def step_runs(self) -> int:
        now = self.clock()
        ids = await self.runs.take(now.timestamp(), self.lease, self.batch)
        if not ids:
            return 0
        stepped = await self._transactions.run(
            outbox.run_due_steps,
            ids,
            self.program(),
            self.settings.policy,
            self.settings.quiet_hours,
            now,
        )
        await self.outbox.add(stepped.messages)  # first: a crash now leaves them for the feeder anyway
        await self.runs.add({i: due for i, due in stepped.runs.items() if due is not None})
        await self.runs.remove(i for i, due in stepped.runs.items() if due is None)
        if stepped.started:
            await self.feed(force=True)  # flows begun by a `start` step are due now
        return len(ids)

    # -- sending ------------------------------------------------------------------------------

    async def send_due(self) -> tuple[int, float | None]:
        now = self.clock()
        grant = await self.rate.take(self.number, self.batch, now.timestamp())
        if not grant.granted:
            return 0, grant.wait if await self._outbox_due(now) else None
        ids = await self.outbox.take(now.timestamp(), self.lease, grant.granted)
        if not ids:
            await self.rate.refund(self.number, grant.granted)
            return 0, None
        claims = await self._transactions.run(
            outbox.claim, ids, self.settings.quiet_hours, now, timedelta(seconds=self.lease)
        )
        await self.rate.refund(self.number, grant.granted - len(claims.ready))
        await self.outbox.add(claims.later)
        await self.outbox.remove(claims.dropped)
        if not claims.ready:
            return 0, None
        results = await asyncio.gather(*(self._hand_over(c) for c in claims.ready))
        recorded = await self._transactions.run(
            outbox.record_results,
            list(zip(claims.ready, results, strict=True)),
            self.clock(),
            self.settings.max_attempts,
        )
        await self.outbox.add(recorded.retry_at)
        await self.outbox.remove(c.id for c in claims.ready if c.id not in recorded.retry_at)
        return len(claims.ready), None

    async def _outbox_due(self, now: datetime) -> bool:
        first = await self.outbox.next_due()
        return first is not None and first <= now.timestamp()

    async def _hand_over(self, claimed: outbox.Claimed) -> SendResult:
        if claimed.recovering:
            found = await self._already_sent(claimed)
            if found is not None:
                log.warning("message %s had reached the carrier before a crash: not sent again", claimed.ref)
                return found
        public = self.settings.public_url
        callback = f"{public}/twilio/status?ref={claimed.ref}" if public else None
        return await self.sender.send(
            OutboundMessage(claimed.ref, claimed.to, claimed.body, claimed.media_urls, callback)
        )

    async def _already_sent(self, claimed: outbox.Claimed) -> SendResult | None:
        """Did the carrier take it before the worker died? Twilio has no idempotency key, so look
        among the number's latest messages for the same text that no row of ours holds yet (every
        message we sent and recorded has its sid stored, so an older copy is never mistaken for it)."""
        try:
            recent = await self.sender.recent(claimed.to)
        except Exception:
            log.exception("could not list messages to %s; sending again", mask_phone(claimed.to))
            return None
        candidates = [m for m in recent if m.body == claimed.body]
        if not candidates:
            return None
        async with self.engine.connect() as conn:
            known = await conn.run_sync(outbox.known_sids, [m.sid for m in candidates])
        for message in candidates:
            if message.sid not in known:
                return SendResult(message.sid, message.status or "queued")
        return None


def make_sender(settings: Settings) -> Sender:
    if not settings.can_send:
        log.warning(
            "no Twilio credentials and sending number: dry run, messages are recorded as simulated "
            "(set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to send)"
        )
        return DryRunSender()
    assert settings.twilio_account_sid and settings.twilio_auth_token
    return TwilioSender(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        from_number=settings.from_number,
        messaging_service_sid=settings.messaging_service_sid,
        api_url=settings.twilio_api_url,
    )


def _masked(number: str) -> str:
    return mask_phone(number) if number.startswith("+") else number
