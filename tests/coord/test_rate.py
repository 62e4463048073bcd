"""The shared sending rate (GCRA in Redis), against a real Redis server."""

import uuid

import pytest
import redis.asyncio as aioredis

from bot.coord.rate import RateLimiter

NUMBER = "+15555550100"


async def limiter(redis_url: str, per_second: float) -> RateLimiter:
    return RateLimiter(aioredis.Redis.from_url(redis_url), f"smsbot-test:{uuid.uuid4().hex}:", per_second)


async def test_a_batch_is_granted_only_once_its_least_slots_are_free(redis_url: str) -> None:
    rate = await limiter(redis_url, 1000.0)  # a slot a millisecond, 100 at once at most
    assert (await rate.take(NUMBER, 200, 100.0, least=50)).granted == 100
    early = await rate.take(NUMBER, 200, 100.010, least=50)  # ten slots free: not worth a batch
    assert early.granted == 0
    assert early.wait == pytest.approx(0.040, abs=0.002)
    assert (await rate.take(NUMBER, 200, 100.050, least=50)).granted == 50


async def test_without_a_least_a_single_free_slot_is_granted(redis_url: str) -> None:
    rate = await limiter(redis_url, 1000.0)
    await rate.take(NUMBER, 200, 100.0)
    assert (await rate.take(NUMBER, 200, 100.002)).granted == 2


async def test_least_never_asks_for_more_than_the_bucket_can_hold(redis_url: str) -> None:
    rate = await limiter(redis_url, 2.0)  # one slot at a time
    assert (await rate.take(NUMBER, 200, 100.0, least=50)).granted == 1
    held = await rate.take(NUMBER, 200, 100.1, least=50)
    assert held.granted == 0
    assert held.wait == pytest.approx(0.4, abs=0.002)
    assert (await rate.take(NUMBER, 200, 100.5, least=50)).granted == 1


async def test_a_worker_late_by_less_than_its_catch_up_is_granted_every_slot_it_missed(
    redis_url: str,
) -> None:
    from bot.worker.loop import CATCH_UP

    rate = RateLimiter(
        aioredis.Redis.from_url(redis_url), f"smsbot-test:{uuid.uuid4().hex}:", 1000.0, burst=CATCH_UP
    )
    assert (await rate.take(NUMBER, 50, 100.0)).granted == 50  # due again at 100.05
    missed = round((100.35 - 100.05) * 1000)  # a transaction held it up 0.3 s
    assert (await rate.take(NUMBER, 1000, 100.35)).granted >= missed
