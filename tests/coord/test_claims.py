"""Redis coordination against a real Redis server."""

import asyncio
import uuid

import redis.asyncio as aioredis

from bot.coord.claims import ClaimState, Coordinator


async def coordinator(redis_url: str) -> Coordinator:
    return Coordinator(aioredis.Redis.from_url(redis_url), prefix=f"smsbot-test:{uuid.uuid4().hex}:")


async def test_claim_lock_finish_and_replay(redis_url: str) -> None:
    coord = await coordinator(redis_url)
    first = await coord.begin("SM1", "+14155550123", "a")
    assert (first.state, first.locked) == (ClaimState.NEW, True)
    again = await coord.begin("SM1", "+14155550123", "b")
    assert again.state is ClaimState.IN_FLIGHT
    other = await coord.begin("SM2", "+14155550123", "c")  # same number, lock taken
    assert (other.state, other.locked) == (ClaimState.NEW, False)
    await coord.finish("SM1", "+14155550123", "a", "<Response/>")
    assert (await coord.begin("SM1", "+14155550123", "d")).reply == "<Response/>"
    assert await coord.lock("+14155550123", "c", patience=1)
    await coord.redis.aclose()


async def test_a_lock_waits_for_its_holder_and_gives_up_after_its_patience(redis_url: str) -> None:
    coord = await coordinator(redis_url)
    assert (await coord.begin("SM1", "+1", "a")).locked
    assert not await coord.lock("+1", "b", patience=0.05)
    waiter = asyncio.create_task(coord.lock("+1", "b", patience=2))
    await asyncio.sleep(0.05)
    await coord.finish("SM1", "+1", "a", "x")
    assert await waiter
    await coord.redis.aclose()


async def test_scripts_flushed_from_redis_are_loaded_again(redis_url: str) -> None:
    coord = await coordinator(redis_url)
    await coord.begin("SM1", "+1", "a")
    await coord.redis.script_flush()
    # Several calls in one tick go as one pipeline; all must survive the missing scripts.
    results = await asyncio.gather(*(coord.begin(f"SM{i}", f"+2{i}", "t") for i in range(2, 6)))
    assert all(r.state is ClaimState.NEW and r.locked for r in results)
    await coord.redis.aclose()


async def test_abandon_frees_the_claim_and_the_lock(redis_url: str) -> None:
    coord = await coordinator(redis_url)
    await coord.begin("SM1", "+1", "a")
    await coord.abandon("SM1", "+1", "a")
    claim = await coord.begin("SM1", "+1", "b")
    assert (claim.state, claim.locked) == (ClaimState.NEW, True)
    await coord.redis.aclose()
