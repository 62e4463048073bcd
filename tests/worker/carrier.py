"""A scene for testing what reaches the carrier: the app (webhooks, API, sign-up pages) in this
process, `smsbot worker` as a real process beside it, and the local stand-in for Twilio's REST API
that records what it accepted. Both share the test's database and Redis."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store.schema import campaigns, messages, subscribers
from tests.conftest import ACCOUNT_SID, ADMIN_TOKEN, FROM_NUMBER, PUBLIC_URL, TOKEN, ClientFactory, Phone
from tests.conftest import services_of as services
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import ALWAYS_OPEN
from tests.worker.test_process import ALL_DAY, start_worker, worker_config, worker_env

EVENTS_TOKEN = "events-secret"


@dataclass
class Scene:
    app: Any
    api: FakeTwilio
    log: Path

    def reached(self, phone: str, containing: str = "") -> list[str]:
        """The texts the carrier accepted for `phone` (those containing `containing`), in order."""
        return [m["body"] for m in self.api.accepted() if m["to"] == phone and containing in m["body"]]

    def carrier(self, phone: str) -> Phone:
        return Phone(self.app, phone, token=TOKEN, public_url=PUBLIC_URL)

    async def events(self, *items: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {EVENTS_TOKEN}"}
        answer = await self.app.post("/api/events", json={"events": list(items)}, headers=headers)
        assert answer.status == 200, await answer.text()
        return dict(await answer.json())

    async def admin(self, path: str, **body: Any) -> Any:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return await self.app.post(path, json=body, headers=headers)

    async def rows(self, phone: str) -> list[Any]:
        """The outbound messages stored for `phone`, oldest first."""
        async with services(self.app).engine.connect() as conn:
            found = await conn.execute(
                select(messages)
                .join(subscribers, subscribers.c.id == messages.c.subscriber_id)
                .where(subscribers.c.phone == phone, messages.c.direction == "outbound")
                .order_by(messages.c.id)
            )
            return list(found)

    async def campaign_status(self, name: str) -> str:
        async with services(self.app).engine.connect() as conn:
            found = await conn.scalar(
                select(campaigns.c.status).where(campaigns.c.name == name).order_by(campaigns.c.round.desc())
            )
        return str(found)

    async def until(self, condition: Callable[[], Awaitable[bool] | bool], seconds: float = 20) -> None:
        """Wait for `condition` (checked every 50 ms); fail with the worker's log after `seconds`."""
        for _ in range(int(seconds / 0.05)):
            met = condition()
            if met if isinstance(met, bool) else await met:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"not met in {seconds} s; worker log:\n{self.log.read_text()[-4000:]}")


@dataclass(frozen=True)
class Options:
    rate: float = 50.0  # messages a second
    quiet: str = ALL_DAY  # the quiet hours, YAML
    more: str = ""  # more of the worker's configuration: YAML sections


@asynccontextmanager
async def scene(
    tmp_path: Path,
    keywords: Path,
    make_client: ClientFactory,
    twilio_api: tuple[FakeTwilio, str],
    database_url: str,
    redis_url: str,
    options: Options,
) -> AsyncIterator[Scene]:
    """The app and a worker process on `keywords`, as `options` say."""
    api, api_url = twilio_api
    rate = options.rate
    app = await make_client(
        admin_token=ADMIN_TOKEN,
        events_token=EVENTS_TOKEN,
        twilio_auth_token=TOKEN,
        public_url=PUBLIC_URL,
        twilio_account_sid=ACCOUNT_SID,
        from_number=FROM_NUMBER,
        twilio_api_url=api_url,
        send_rate=rate,
        quiet_hours=ALWAYS_OPEN,
        keywords_dir=keywords,
    )
    env = worker_env(tmp_path, database_url, redis_url, services(app).settings.redis_prefix)
    log = tmp_path / "worker.log"
    config = worker_config(tmp_path, keywords, api_url, rate, options.quiet, options.more)
    worker = await start_worker(config, env, log)
    try:
        yield Scene(app, api, log)
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
            await worker.wait()
    assert worker.returncode == 0, log.read_text()[-4000:]


Stage = Callable[..., AbstractAsyncContextManager[Scene]]


def stage_of(
    tmp_path: Path,
    keywords: Path,
    make_client: ClientFactory,
    twilio_api: tuple[FakeTwilio, str],
    database_url: str,
    redis_url: str,
) -> Stage:
    """`scene` with the test's own parts: `async with stage(rate=5) as s: ...`."""

    def stage(**options: Any) -> AbstractAsyncContextManager[Scene]:
        return scene(tmp_path, keywords, make_client, twilio_api, database_url, redis_url, Options(**options))

    return stage
