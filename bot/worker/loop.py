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
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.channels.base import OutboundMessage, Sender, SendResult
from bot.coord.due import DueQueue
from bot.coord.rate import RateLimiter
from bot.domain.model import Program
from bot.domain.phones import mask_phone
from bot.logs import REQUEST_ID
from bot.pipeline import ab_tests, campaigns, retention, sending
from bot.pipeline.date_triggers import start_dated
from bot.pipeline.segment_entries import start_entered
from bot.pipeline.steps import run_due_steps
from bot.settings import Settings
from bot.store import activity, segment_counts
from bot.store.db import WriteTransactions
from bot.store.statements import CAMPAIGN_BACKLOG, DUE_MESSAGES, DUE_RUNS

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
IDLE = 0.5  # longest rest, seconds: the feeder's turn and other workers' news are never far off
MAX_BATCHES_IN_FLIGHT = 8
BATCH = 200  # messages claimed at most at once; runs stepped per transaction: a quarter of it
FEED_EVERY = 1.0  # seconds between two looks at SQL for due work
LOOKAHEAD = 5.0  # seconds: the feeder queues work due this soon
CLAIM_EVERY = 0.05  # seconds of the rate claimed at least at once under load (a message waits no longer)
# Seconds of the rate the bucket holds: as much as the worker may fall behind (a long transaction, a
# fold of the counts) and still catch up. With 0.1 s, each such stall was lost for good: 100,000
# joins drained at 950 messages a second against a rate of 1,000, 15.6 s behind at the end
# (bench/worker.py); with 0.5 s, at the rate. A reply may wait behind at most this much at the carrier.
CATCH_UP = 0.5
CAMPAIGN_LOOK = 0.2  # seconds between two looks for a campaign to send (one indexed read)
FOLD_EVERY = 15.0  # seconds between two folds of the dashboard's counts (store/activity.py)
FOLD_BATCH = 50_000  # counts folded at most in one transaction
SEGMENT_COUNT_EVERY = 300.0  # seconds between two counts of every segment for the dashboard
GAUGES_EVERY = 15.0  # seconds between two counts of the campaigns' recipients left, for /metrics
DATES_EVERY = 600.0  # seconds between two looks for whose birthday (a date trigger's day) it is
FORGET_EVERY = 3600.0  # seconds between two walks over the messages for bodies kept too long
# Seconds of sending at the rate: how many campaign messages wait in the outbox, so that a pause or a
# cancel takes effect within seconds and a flow step falling due waits behind no more than this;
# at least CAMPAIGN_FLOOR messages, so a tiny rate still keeps the wire busy.
CAMPAIGN_AHEAD = 2.0
CAMPAIGN_FLOOR = 4


async def _rest(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Sleep `seconds`, or less if stopped or woken."""
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=max(0.001, seconds), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
        if wake is not None:
            wake.clear()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Tick:
    stepped: int = 0  # runs looked at
    queued: int = 0  # campaign messages put in the outbox
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
    ) -> None:
        self.settings, self.engine, self.redis = settings, engine, redis
        self.program, self.sender, self.clock = program, sender, clock
        self.lease = settings.send_lease
        self.batch = BATCH  # messages claimed at most at once (tests set 1 to go one by one)
        prefix = settings.redis_prefix
        self.runs = DueQueue(redis, f"{prefix}due:runs")
        self.outbox = DueQueue(redis, f"{prefix}due:outbox")
        self.rate = RateLimiter(redis, prefix, settings.send_rate, burst=CATCH_UP)
        self.number = settings.rate_key
        self._feed_lock = f"{prefix}feeder"
        self._segment_lock = f"{prefix}segment-counter"
        self._dates_lock = f"{prefix}date-triggers"
        self._gauged_at = float("-inf")  # the clock's time of the last count for the gauges
        self._forgotten_after = 0  # the last message id the retention walk has passed
        self._token = secrets.token_hex(8)
        self._fed_at = float("-inf")
        self._transactions = WriteTransactions(engine, settings.database_url, name="worker-db")
        self._mail = asyncio.Event()  # a flow step queued a message: the sending loop wakes
        self._scheduled: set[tuple[str, str]] = set()  # (name, fingerprint) of schedules already handled

    def close(self) -> None:
        self._transactions.close()

    @property
    def step_batch(self) -> int:
        """Runs per transaction: few, so a claim between two of them keeps the rate (one writer)."""
        return max(1, self.batch // 4)

    # -- the loops ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; errors are logged and retried, never fatal.

        Two loops: one advances flow runs, one sends. A full bucket (a burst of replies) holds back
        sending only, and stepping thousands of runs never starves the rate. Sends are pipelined:
        the next batch is claimed when the rate allows, while earlier ones are still on the wire."""
        log.info("worker started: %.3g messages/s from %s", self.settings.send_rate, _masked(self.number))
        in_flight: set[asyncio.Task[None]] = set()
        try:
            await asyncio.gather(
                self._forever(stop, self._stepping, None),
                self._forever(stop, self._campaigning, None),
                self._forever(stop, lambda: self._sending(in_flight), self._mail),
                self._forever(stop, self._counting, None),
                self._forever(stop, self._counting_segments, None),
                self._forever(stop, self._dating, None),
                self._forever(stop, self._forgetting, None),
            )
        finally:
            if in_flight:  # a send under way finishes and is recorded
                await asyncio.gather(*in_flight, return_exceptions=True)

    async def _forever(
        self, stop: asyncio.Event, turn: Callable[[], Awaitable[float | None]], wake: asyncio.Event | None
    ) -> None:
        """Take turns until stopped: None means go again at once, a number means rest that long."""
        failures = 0
        while not stop.is_set():
            try:
                pause = await turn()
                failures = 0
            except (aioredis.ConnectionError, aioredis.TimeoutError, OperationalError, DBAPIError) as exc:
                metrics.count_backend_error(exc)
                failures += 1
                log.error("worker: %s; trying again", exc.__class__.__name__, exc_info=failures == 1)
                pause = min(30.0, 0.5 * 2**failures)
            except Exception:  # a bug must not stop every flow: log it, back off, go on
                failures += 1
                log.exception("worker: unexpected error; trying again")
                pause = min(30.0, 0.5 * 2**failures)
            if pause is None:
                await asyncio.sleep(0)  # let the other loop and the in-flight sends in
                continue
            await _rest(stop, wake, pause)

    async def _stepping(self) -> float | None:
        await self._feed_if_due()
        if await self.step_runs():
            return None
        now = self.clock().timestamp()
        first = await self.runs.next_due()
        until_feed = self._fed_at + FEED_EVERY - now
        return max(0.0, min(IDLE, until_feed, first - now if first is not None else IDLE))

    async def _counting(self) -> float | None:
        """Fold the dashboard's new counts into their hours, so its pages read few rows: a batch
        at a time, so a backlog never holds SQLite's write lock for long."""
        folded = await self._transactions.run(activity.fold, FOLD_BATCH)
        return None if folded >= FOLD_BATCH else FOLD_EVERY

    async def _counting_segments(self) -> float | None:
        """Count every segment for the dashboard: one worker per interval of the clock."""
        await self.count_segments()
        return SEGMENT_COUNT_EVERY

    async def count_segments(self, force: bool = False) -> int:
        now = self.clock()
        slot = f"{self._segment_lock}:{int(now.timestamp() // SEGMENT_COUNT_EVERY)}"
        ttl = int(SEGMENT_COUNT_EVERY * 2000)
        if not force and not await self.redis.set(slot, self._token, nx=True, px=ttl):
            return 0
        program = self.program()
        async with self.engine.connect() as conn:
            counted = await conn.run_sync(segment_counts.count_now, program, list(program.segments), now)
        await self._transactions.run(segment_counts.keep, program, counted)
        return len(counted)

    async def _dating(self) -> float | None:
        await self.start_dated()
        return DATES_EVERY

    async def start_dated(self, force: bool = False) -> int:
        """Start the date-triggered flows whose day has come (one worker per interval of the clock);
        the runs started, which the feeder then queues at their time of day."""
        program = self.program()
        if not any(flow.automation.on_date or flow.automation.enters for flow in program.flows.values()):
            return 0
        now = self.clock()
        slot = f"{self._dates_lock}:{int(now.timestamp() // DATES_EVERY)}"
        if not force and not await self.redis.set(slot, self._token, nx=True, px=int(DATES_EVERY * 2000)):
            return 0
        started = int(
            await self._transactions.run(start_dated, program.flows, self.settings.quiet_hours, now)
        ) + int(await self._transactions.run(start_entered, program, now))
        if started:
            log.info("date- and segment-triggered flows started: %d runs", started)
            await self.feed(force=True)
        return started

    async def _forgetting(self) -> float | None:
        """Blank message bodies older than `privacy.keep_messages_days`, a batch at a time; once a
        walk over the messages is done, the next one starts in FORGET_EVERY seconds."""
        if self.settings.keep_messages_days is None:
            return FORGET_EVERY
        await self.forget_old_bodies()
        return None if self._forgotten_after else FORGET_EVERY

    async def forget_old_bodies(self) -> int:
        """One batch of the walk: the bodies blanked."""
        days = self.settings.keep_messages_days
        assert days is not None
        blanked, after = await self._transactions.run(
            retention.forget_bodies, self.clock(), days, self._forgotten_after
        )
        self._forgotten_after = 0 if after == self._forgotten_after else after  # the end: start over
        return int(blanked)

    async def _campaigning(self) -> float | None:
        return None if await self.queue_campaigns() else CAMPAIGN_LOOK

    async def _sending(self, in_flight: set[asyncio.Task[None]]) -> float | None:
        if len(in_flight) >= MAX_BATCHES_IN_FLIGHT:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            return None
        claims, rate_wait = await self._claim_due()
        if claims:
            task = asyncio.create_task(self._deliver_logged(claims))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            return None
        if rate_wait:  # the rate holds back what is due: new mail could not go sooner, so no waking
            await asyncio.sleep(min(IDLE, rate_wait))
            return None
        now = self.clock().timestamp()
        first = await self.outbox.next_due()
        if first is None:
            return IDLE  # or until a flow step queues a message (the wake event)
        return max(0.0, min(IDLE, first - now))

    async def _deliver_logged(self, claims: list[sending.Claimed]) -> None:
        try:
            await self._deliver(claims)
        except Exception:
            # The rows stay `dispatching`: after the lease they are looked up, not sent again blindly.
            log.exception("worker: %d hand-overs not recorded; checked again after the lease", len(claims))

    async def tick(self) -> Tick:
        """One round, in order (for tests with a clock they move): start what a date starts, feed,
        advance due runs, send."""
        await self.start_dated()
        await self._feed_if_due()
        tick = Tick()
        tick.stepped = await self.step_runs()
        tick.queued = await self.queue_campaigns()
        tick.sent, tick.wait = await self.send_due()
        return tick

    # -- feeding Redis from the database ------------------------------------------------------

    async def _feed_if_due(self) -> None:
        if self.clock().timestamp() - self._fed_at >= FEED_EVERY:
            await self.feed()

    async def feed(self, force: bool = False) -> int:
        """Queue every run and message due soon, from SQL (so a Redis flush loses nothing).

        One process feeds per interval of the clock: the first to take that interval's key."""
        now = self.clock().timestamp()
        self._fed_at = now
        if not force:
            slot = f"{self._feed_lock}:{int(now // FEED_EVERY)}"
            ttl = int(FEED_EVERY * 2000)
            if not await self.redis.set(slot, self._token, nx=True, px=ttl):
                return 0
        until = self.clock() + timedelta(seconds=LOOKAHEAD)
        limit = self.batch * 10  # a second's work and more; re-adding what is queued costs CPU
        async with self.engine.connect() as conn:
            runs = (await conn.execute(DUE_RUNS, {"until": until, "limit": limit})).all()
            sends = (await conn.execute(DUE_MESSAGES, {"until": until, "limit": limit})).all()
            if now - self._gauged_at >= GAUGES_EVERY:  # a count over every pending recipient: not each second
                self._gauged_at = now
                sending, left = (await conn.execute(campaigns.IN_PROGRESS)).one()
                metrics.CAMPAIGNS_SENDING.set(sending)
                metrics.RECIPIENTS_LEFT.set(left or 0)
        metrics.DUE_BACKLOG.set(sum(1 for m in sends if m.send_after.timestamp() <= now))
        await self.runs.add({r.id: r.due_at for r in runs}, keep_existing=True)
        await self.outbox.add({m.id: m.send_after for m in sends}, keep_existing=True)
        return len(runs) + len(sends)

    # -- flow steps ---------------------------------------------------------------------------

    async def step_runs(self) -> int:
        now = self.clock()
        ids = await self.runs.take(now.timestamp(), self.lease, self.step_batch)
        if not ids:
            return 0
        stepped = await self._transactions.run(
            run_due_steps,
            ids,
            self.program(),
            self.settings.policy,
            self.settings.quiet_hours,
            now,
        )
        await self.outbox.add(stepped.messages)  # first: a crash now leaves them for the feeder anyway
        if stepped.messages:
            self._mail.set()
        await self.runs.add({i: due for i, due in stepped.runs.items() if due is not None})
        await self.runs.remove(i for i, due in stepped.runs.items() if due is None)
        if stepped.started:
            await self.feed(force=True)  # flows begun by a `start` step are due now
        return len(ids)

    # -- campaigns ----------------------------------------------------------------------------

    @property
    def campaign_backlog(self) -> int:
        """Campaign messages kept in the outbox at most: a few seconds at the rate, so flow steps
        falling due meanwhile wait behind a few seconds of a campaign, not all of it."""
        return max(CAMPAIGN_FLOOR, int(self.settings.send_rate * CAMPAIGN_AHEAD))

    async def queue_campaigns(self) -> int:
        """Start the campaigns whose time has come; queue due recipients while the backlog is short."""
        now, program = self.clock(), self.program()
        late = timedelta(minutes=self.settings.late_after_minutes)
        due = {(c.name, c.fingerprint) for c in campaigns.due_by_schedule(program, now, late)}
        if due - self._scheduled:
            started = await self._transactions.run(
                campaigns.start_scheduled, program, self.settings.quiet_hours, now, late
            )
            self._scheduled |= due  # started now, or found sent already: not looked at again
            for begun in started:
                log.info("campaign started by its schedule: %d recipients", begun.audience)
        async with self.engine.connect() as conn:  # reads only, unless a campaign is sending
            if (await conn.execute(campaigns.ANY_SENDING)).first() is None:
                return 0
            tests_due = ab_tests.any_due((await conn.execute(ab_tests.UNDECIDED)).all(), now)
        if tests_due:
            for _, chosen in await self._transactions.run(ab_tests.decide_due, now):
                log.info("an A/B test's winner picked (%s): the rest of its audience gets it", chosen)
        async with self.engine.connect() as conn:
            until = now + timedelta(seconds=LOOKAHEAD)
            backlog = (await conn.execute(CAMPAIGN_BACKLOG, {"until": until})).scalar_one()
        room = min(self.batch, self.campaign_backlog - backlog)
        if room <= 0:
            return 0
        queued = await self._transactions.run(
            campaigns.queue_due, program, self.settings.policy, self.settings.quiet_hours, now, until, room
        )
        if queued.messages:
            await self.outbox.add(queued.messages)
            self._mail.set()
        return len(queued.messages)

    # -- sending ------------------------------------------------------------------------------

    async def send_due(self) -> tuple[int, float | None]:
        """Claim what may go now and hand it over; (sent, seconds until the rate allows more)."""
        claims, wait = await self._claim_due()
        if claims:
            await self._deliver(claims)
        return len(claims), wait

    async def _claim_due(self) -> tuple[list[sending.Claimed], float | None]:
        now = self.clock()
        grant = await self.rate.take(self.number, self.batch, now.timestamp(), self.least_claim)
        if not grant.granted:
            return [], grant.wait if await self._outbox_due(now) else None
        ids = await self.outbox.take(now.timestamp(), self.lease, grant.granted)
        if not ids:
            await self.rate.refund(self.number, grant.granted)
            return [], None
        claims = await self._transactions.run(
            sending.claim,
            ids,
            self.settings.quiet_hours,
            now,
            self.takeover,
            self.program().flows,
            self.program().inbox.marketing_waits,
        )
        await self.rate.refund(self.number, grant.granted - len(claims.ready))
        await self.outbox.add(claims.later)
        await self.outbox.remove(claims.dropped)
        return claims.ready, None

    @property
    def least_claim(self) -> int:
        """Messages claimed at least at once when sending at the full rate: CLAIM_EVERY seconds of
        it, so that a transaction and its Redis calls serve a batch rather than one message or two."""
        return max(1, min(self.batch, int(self.settings.send_rate * CLAIM_EVERY)))

    @property
    def takeover(self) -> timedelta:
        """How long a hand-over may go without a sign of life before another worker looks it up at
        the carrier: the lease, plus the API call's own timeout, so that a dead worker's last call
        is long over (answered, or given up) and the carrier's listing shows what it took."""
        return timedelta(seconds=self.lease + self.settings.api_timeout)

    async def _deliver(self, claims: list[sending.Claimed]) -> None:
        renewing = asyncio.create_task(self._renew(claims))
        try:
            results = await asyncio.gather(*(self._hand_over(c) for c in claims))
        finally:
            renewing.cancel()
        now = self.clock()
        recorded = await self._transactions.run(
            sending.record_results,
            list(zip(claims, results, strict=True)),
            now,
            self.settings.max_attempts,
            self.takeover,
        )
        for claimed, result in zip(claims, results, strict=True):
            late = (now - claimed.due).total_seconds() if claimed.due and result.sid else None
            metrics.handed_over(claimed.purpose, result.status, result.error_code, late)
        await self.outbox.add(recorded.retry_at)
        await self.outbox.remove(c.id for c in claims if c.id not in recorded.retry_at)

    async def _renew(self, claims: list[sending.Claimed]) -> None:
        """While this worker's calls are on the wire, it is alive: nobody else takes them over."""
        ids = [c.id for c in claims]
        while True:
            await asyncio.sleep(self.lease / 3)
            await self._transactions.run(sending.renew, ids, self.clock())

    async def _outbox_due(self, now: datetime) -> bool:
        first = await self.outbox.next_due()
        return first is not None and first <= now.timestamp()

    async def _hand_over(self, claimed: sending.Claimed) -> SendResult:
        # This task's log lines follow the message: the MessageSid (or event) that started its flow
        # run, if one did, and its own ref.
        REQUEST_ID.set(f"{claimed.started_by}/{claimed.ref}" if claimed.started_by else claimed.ref)
        if claimed.recovering:
            found = await self._already_sent(claimed)
            if found is not None:
                log.warning("message %s had reached the carrier before a crash: not sent again", claimed.ref)
                return found
        return await self.sender.send(
            OutboundMessage(claimed.ref, claimed.to, claimed.body, claimed.media_urls)
        )

    async def _already_sent(self, claimed: sending.Claimed) -> SendResult | None:
        """Did the carrier take it before the worker died? the carrier's API has no idempotency key, so look
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
            known = await conn.run_sync(sending.known_sids, [m.sid for m in candidates])
        for message in candidates:
            if message.sid not in known:
                return SendResult(message.sid, message.status or "queued")
        return None


def _masked(number: str) -> str:
    return mask_phone(number) if number.startswith("+") else number
