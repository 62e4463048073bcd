"""Several server processes against one database and one Redis, as when scaled out."""

import asyncio
import uuid
from pathlib import Path

import aiohttp

from tests.servers import Server


async def test_one_number_texting_two_processes_at_once_loses_no_update(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    prefix = f"smsbot-test:{uuid.uuid4().hex}:"
    data = tmp_path / "var"
    # With the embedded defaults the second process joins the first one's Redis.
    embedded = "unix://" in redis_url
    first = await asyncio.to_thread(
        Server(data, database_url, None if embedded else redis_url, SMSBOT_REDIS_PREFIX=prefix).start
    )
    second = await asyncio.to_thread(
        Server(data, database_url, None if embedded else redis_url, SMSBOT_REDIS_PREFIX=prefix).start
    )
    try:
        async with aiohttp.ClientSession() as session:

            async def text(i: int) -> int:
                server = first if i % 2 else second
                form = {
                    "MessageSid": f"SM{uuid.uuid4().hex}",
                    "From": "+14155550123",
                    "To": "+15005550006",
                    "Body": "JOIN" if i % 3 else "STOP",
                }
                async with session.post(f"{server.url}/twilio/sms", data=form) as response:
                    return response.status

            statuses = await asyncio.gather(*(text(i) for i in range(30)))
            assert statuses == [200] * 30
            async with session.get(
                f"{first.url}/api/subscribers/+14155550123", headers={"Authorization": "Bearer admin-secret"}
            ) as response:
                record = await response.json()
            async with session.get(
                f"{second.url}/api/subscribers/+14155550123/messages",
                headers={"Authorization": "Bearer admin-secret"},
            ) as response:
                kept = (await response.json())["messages"]
    finally:
        codes = [await asyncio.to_thread(second.stop), await asyncio.to_thread(first.stop)]
    assert codes == [0, 0]

    assert len([m for m in kept if m["direction"] == "inbound"]) == 30
    status = "new"
    for entry in record["consent"]:  # each record starts where the previous ended: no lost update
        assert entry["from_status"] == status, record["consent"]
        status = entry["to_status"]
    assert record["status"] == status
    assert len(record["consent"]) >= 2
