"""Script calls of one tick go to a real Redis as one round trip; each caller gets its own answer."""

import asyncio

import pytest
from redis.exceptions import ResponseError

from bot.coord.autopipeline import AutoPipeline
from bot.coord.client import connect

ECHO_OR_FAIL = """
if ARGV[1] == 'bad' then return redis.error_reply('refused ' .. KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[1])
return {ARGV[1], tonumber(ARGV[2])}
"""


async def test_calls_made_in_one_tick_each_get_their_own_result_or_error(redis_url: str) -> None:
    client = connect(redis_url)
    script = client.register_script(ECHO_OR_FAIL)
    call = AutoPipeline(client)
    try:
        answers: list[object] = await asyncio.gather(
            call(script, ["test:ap:a"], ["one", 1]),
            call(script, ["test:ap:b"], ["bad", 2]),
            call(script, ["test:ap:c"], ["three", 3]),
            return_exceptions=True,
        )
        good, bad, other = answers
        assert good == [b"one", 1]
        assert isinstance(bad, ResponseError) and "refused test:ap:b" in str(bad)
        assert other == [b"three", 3]
        assert await client.get("test:ap:c") == b"three"  # the calls after a failed one still ran
    finally:
        await client.aclose()


async def test_a_connection_redis_dropped_is_replaced_and_no_reply_goes_astray(redis_url: str) -> None:
    client = connect(redis_url)
    script = client.register_script(ECHO_OR_FAIL)
    call = AutoPipeline(client)
    try:
        assert await call(script, ["test:ap:d"], ["before", 1]) == [b"before", 1]
        await client.script_flush()  # and the script must be loaded again
        async with connect(redis_url) as admin:
            await admin.client_kill_filter(_type="normal", skipme=True)
        replies = await asyncio.gather(*(call(script, [f"test:ap:{i}"], [f"v{i}", i]) for i in range(5)))
        assert replies == [[f"v{i}".encode(), i] for i in range(5)]
    finally:
        await client.aclose()


@pytest.mark.parametrize("calls", [1, 40])
async def test_a_batch_cut_off_halfway_leaves_nothing_for_the_next_one(redis_url: str, calls: int) -> None:
    client = connect(redis_url)
    slow = client.register_script(
        "local t = redis.call('TIME') while true do local n = redis.call('TIME')"
        " if (n[1] - t[1]) * 1000000 + n[2] - t[2] > 20000 then break end end"
        " return ARGV[1]"
    )
    call = AutoPipeline(client)
    try:
        assert await call(slow, [], ["warm"]) == b"warm"
        batch = asyncio.ensure_future(asyncio.gather(*(call(slow, [], [f"old{i}"]) for i in range(calls))))
        await asyncio.sleep(0.005)
        for task in list(call._tasks):  # the batch's own round trip, cut off while Redis works
            task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch
        assert await call(slow, [], ["new"]) == b"new"  # not one of the old replies left on a socket
    finally:
        await client.aclose()
