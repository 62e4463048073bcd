"""What the worker tests share: the sending app, a clock we move, workers made on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from bot.channels import make_sender
from bot.channels.base import Sender
from bot.domain.quiet_hours import QuietHours, Window
from bot.worker.loop import Worker
from tests.conftest import (
    ACCOUNT_SID,
    ADMIN_TOKEN,
    FROM_NUMBER,
    PUBLIC_URL,
    TOKEN,
    ClientFactory,
    services_of,
)
from tests.fake_twilio import FakeTwilio

ALWAYS_OPEN = QuietHours(default=Window(time(0, 0), time(23, 59, 59, 999999)))


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
async def api(twilio_api: tuple[FakeTwilio, str]) -> FakeTwilio:
    return twilio_api[0]


async def sending_app(
    make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str], send_rate: float, **changes: Any
) -> Any:
    """The server, sending from our number through the local Twilio API at `send_rate` a second
    (with any other settings `changes` names)."""
    return await make_client(
        admin_token=ADMIN_TOKEN,
        twilio_auth_token=TOKEN,
        public_url=PUBLIC_URL,
        twilio_account_sid=ACCOUNT_SID,
        from_number=FROM_NUMBER,
        twilio_api_url=twilio_api[1],
        send_rate=send_rate,
        quiet_hours=ALWAYS_OPEN,
        **changes,
    )


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str]) -> Any:
    return await sending_app(make_client, twilio_api, 100.0)


WorkerFactory = Callable[..., Worker]


@pytest.fixture
async def make_worker(app: Any) -> AsyncIterator[WorkerFactory]:
    made: list[tuple[Worker, Sender]] = []

    def make(
        clock: Callable[[], datetime], sender: Sender | None = None, client: Any = None, **settings: Any
    ) -> Worker:
        services = services_of(client or app)
        chosen = services.settings.replace(**settings)
        sender = sender or make_sender(chosen)
        worker = Worker(
            chosen, services.engine, services.redis, lambda: services.program.current, sender, clock=clock
        )
        made.append((worker, sender))
        return worker

    yield make
    for worker, sender in made:
        await sender.close()
        worker.close()
