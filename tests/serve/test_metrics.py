"""/metrics under `smsbot serve`: one figure for all the web processes, whichever answers, behind
its own token; none served without one."""

import asyncio
import re
import uuid
from pathlib import Path

import aiohttp

from tests.servers import Server

TOKEN = "metrics-secret"


def inbound_total(text: str) -> float:
    return sum(float(v) for v in re.findall(r"^smsbot_inbound_messages_total\{[^}]*\} (\S+)$", text, re.M))


async def test_the_web_processes_count_together_and_only_the_token_reads_them(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    embedded = "unix://" in redis_url
    prefix = f"smsbot-test:{uuid.uuid4().hex}:"
    env = {"SMSBOT_METRICS_TOKEN": TOKEN, "SMSBOT_REDIS_PREFIX": prefix}
    server = await asyncio.to_thread(
        Server(tmp_path / "var", database_url, None if embedded else redis_url, **env).start
    )
    try:
        async with aiohttp.ClientSession() as session:
            for i in range(12):
                form = {
                    "MessageSid": f"SM{uuid.uuid4().hex}",
                    "From": f"+1415555{i:04d}",
                    "To": "+15005550006",
                    "Body": "JOIN",
                }
                async with session.post(f"{server.url}/twilio/sms", data=form) as response:
                    assert response.status == 200
            async with session.get(f"{server.url}/metrics") as response:
                assert response.status == 401
            headers = {"Authorization": f"Bearer {TOKEN}"}
            for _ in range(6):  # several connections: the kernel hands them to either process
                async with (
                    aiohttp.ClientSession() as fresh,
                    fresh.get(f"{server.url}/metrics", headers=headers) as got,
                ):
                    assert got.status == 200
                    text = await got.text()
                assert inbound_total(text) == 12
                assert 'smsbot_inbound_messages_total{intent="keyword",outcome="replied"} 12.0' in text
                assert "smsbot_webhook_seconds_count 12.0" in text
    finally:
        assert await asyncio.to_thread(server.stop) == 0
