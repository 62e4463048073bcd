"""The log as JSON lines (SMSBOT_LOG_FORMAT=json): one object a line, with the request id that
follows a message."""

import asyncio
import io
import json
import logging
import uuid
from pathlib import Path

import aiohttp

from bot.logs import REQUEST_ID, JsonLines
from tests.servers import Server


def test_a_line_is_one_json_object_with_its_request_id() -> None:
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("bot.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        token = REQUEST_ID.set("SM0123")
        logger.warning("slow commit: %d writes", 3)
        REQUEST_ID.reset(token)
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in written.getvalue().splitlines())
    assert first["message"] == "slow commit: 3 writes" and first["request_id"] == "SM0123"
    assert (first["level"], first["logger"]) == ("WARNING", "bot.test_logs") and first["time"].endswith(
        "+00:00"
    )
    assert "request_id" not in second and "ValueError: boom" in second["exception"]


async def test_the_server_logs_json_lines_and_answers_with_the_request_id(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    embedded = "unix://" in redis_url
    env = {"SMSBOT_LOG_FORMAT": "json", "SMSBOT_REDIS_PREFIX": f"smsbot-test:{uuid.uuid4().hex}:"}
    server = await asyncio.to_thread(
        Server(tmp_path / "var", database_url, None if embedded else redis_url, **env).start
    )
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.url}/healthz", headers={"X-Request-Id": "req-42"}) as got:
                assert got.headers["X-Request-Id"] == "req-42"
            sid = f"SM{uuid.uuid4().hex}"
            form = {"MessageSid": sid, "From": "+14155550123", "To": "+15005550006", "Body": "HELP"}
            async with session.post(f"{server.url}/twilio/sms", data=form) as got:
                assert got.headers["X-Request-Id"] == sid  # a webhook's id is its MessageSid
    finally:
        assert await asyncio.to_thread(server.stop) == 0
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= json.loads(line).keys() for line in lines)
