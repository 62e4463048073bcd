"""What the handlers need, built once per app by the cleanup contexts in app.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine
from twilio.request_validator import RequestValidator

from bot.coord.claims import Coordinator
from bot.domain.model import Program
from bot.pipeline.writer import InboundWriter
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.program.reload import ProgramWatcher
    from bot.worker.loop import Worker


@dataclass
class ProgramHolder:
    """The program in force; swapped whole, so a request sees one version from start to end."""

    current: Program


@dataclass
class Services:
    settings: Settings
    program: ProgramHolder
    validator: RequestValidator | None = None
    engine: AsyncEngine | None = None
    redis: aioredis.Redis | None = None
    coord: Coordinator | None = None
    writer: InboundWriter | None = None
    watcher: ProgramWatcher | None = None
    worker: Worker | None = None  # the flow worker, when it runs in this process


SERVICES = web.AppKey("services", Services)
