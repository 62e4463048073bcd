"""handle(message): one inbound message applied exactly once, whatever channel brought it.

The webhook and `smsbot chat` both come through here. Redis claims the MessageSid (a second
delivery replays the stored answer) and takes the subscriber's lock; the writer applies it in its
next batch; the channel's own answer (TwiML for Twilio) is rendered by the caller's `render` and
kept for replays; replies are charged to the number's sending rate, since they go out at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.channels.base import Reply
from bot.coord.claims import ClaimState, Coordinator
from bot.coord.rate import RateLimiter
from bot.domain.inbound import InboundMessage
from bot.domain.phones import mask_phone
from bot.pipeline.apply import Applied
from bot.pipeline.writer import Writer

log = logging.getLogger(__name__)
Render = Callable[[Sequence[Reply]], str]


@dataclass(frozen=True)
class Handled:
    answer: str  # the channel's rendered answer, the same for every delivery of one MessageSid
    applied: Applied | None  # None when Redis replayed an answer without touching the database


@dataclass(frozen=True)
class Inbound:
    coord: Coordinator
    writer: Writer
    rate: RateLimiter
    lock_timeout: float  # longest wait for a subscriber's lock, seconds

    async def handle(self, message: InboundMessage, render: Render) -> Handled:
        """Apply one message exactly once and return its answer, replaying it for duplicates."""
        sid, phone = message.message_sid, message.sender
        token = self.coord.token()
        async with self.coord.local_lock(phone):
            try:
                replayed = await self._claim(message, token)
                redis_ok = True
            except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
                # Redis only coordinates: without it the database still dedupes and serialises.
                log.error("Redis unreachable (%s); handling %s without it", exc, sid)
                replayed, redis_ok = None, False
                # The script may have run before the answer was lost: let go of what we may hold,
                # or this number's next messages would wait out the lock.
                await _quietly(self.coord.abandon(sid, phone, token))
            if replayed is not None:
                return Handled(replayed, None)
            applied = await self._apply(message, token, redis_ok)
            answer = render(applied.replies)
            if redis_ok:
                await _quietly(self._finish(message, token, answer, applied))
        if applied.outcome is not None:
            outcome = applied.outcome
            log.info(
                "%s from %s: %s -> %s", outcome.intent.value, mask_phone(phone), sid, outcome.status.value
            )
        return Handled(answer, applied)

    async def _claim(self, message: InboundMessage, token: str) -> str | None:
        """The stored answer when this MessageSid was handled before; else None, with the lock."""
        sid, phone = message.message_sid, message.sender
        claim = await self.coord.begin(sid, phone, token)
        if claim.state is ClaimState.DONE and claim.reply is not None:
            return claim.reply
        if claim.state is ClaimState.IN_FLIGHT:
            answer = await self.coord.wait_done(sid, self.lock_timeout)
            if answer is not None:
                return answer
            # The first delivery's handler vanished; the database will tell what it stored.
        if not claim.locked and not await self.coord.lock(phone, token, self.lock_timeout):
            log.warning(
                "lock for %s not had in %.0fs; the database serialises", mask_phone(phone), self.lock_timeout
            )
        return None

    async def _apply(self, message: InboundMessage, token: str, redis_ok: bool) -> Applied:
        try:
            return await self.writer.submit(message)
        except BaseException:
            if redis_ok:
                await _quietly(self.coord.abandon(message.message_sid, message.sender, token))
            raise

    async def _finish(self, message: InboundMessage, token: str, answer: str, applied: Applied) -> None:
        calls: list[Awaitable[None]] = [self.coord.finish(message.message_sid, message.sender, token, answer)]
        if applied.replies and not message.simulated:
            # The carrier sends these at once from the number texted: flow steps make room.
            calls.append(self.rate.charge(message.recipient, len(applied.replies), time.time()))
        await asyncio.gather(*calls)


async def _quietly(call: Awaitable[object]) -> None:
    try:
        await call
    except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
        log.error("Redis unreachable while releasing a claim: %s", exc)
