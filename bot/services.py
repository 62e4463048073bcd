"""What the handlers need, built once per app by the cleanup contexts in app.py."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.pipeline.clicks import Destinations
from bot.pipeline.handle import Inbound
from bot.pipeline.writer import Writer
from bot.program.reload import ProgramHolder, ProgramWatcher
from bot.settings import Settings


@dataclass
class Services:
    settings: Settings
    program: ProgramHolder
    engine: AsyncEngine | None = None
    redis: aioredis.Redis | None = None
    writer: Writer | None = None
    destinations: Destinations | None = None  # tracked links by code
    inbound: Inbound | None = None
    watcher: ProgramWatcher | None = None

    def pipeline(self) -> Inbound:
        assert self.inbound is not None, "the app has not started"
        return self.inbound


SERVICES = web.AppKey("services", Services)
