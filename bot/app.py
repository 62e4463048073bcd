"""create_app(settings): routes plus cleanup contexts for program, Redis and the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels import make_sender
from bot.coord.autopipeline import AutoPipeline
from bot.coord.claims import Coordinator
from bot.coord.client import redis_client
from bot.coord.rate import RateLimiter
from bot.dashboard import pages as dashboard_pages
from bot.domain.model import Program
from bot.http.errors import no_500, quiet_callers_faults
from bot.http.request_ids import request_id
from bot.http.routes import setup_routes
from bot.pipeline.clicks import Destinations
from bot.pipeline.handle import Inbound
from bot.pipeline.writer import Writer
from bot.program.loader import load_program
from bot.program.reload import ProgramHolder, ProgramWatcher
from bot.services import SERVICES, Services
from bot.settings import Settings
from bot.store import db
from bot.worker.loop import Worker

log = logging.getLogger(__name__)
# What a carrier sends: a 1,600-character body (up to 4 bytes a character, percent-encoded) and ten
# media URLs fit many times over; a larger request is refused (413) before it is read.
MAX_REQUEST = 64 * 1024
_PIPELINE = web.AppKey("pipeline", AutoPipeline)


def create_app(
    settings: Settings, program: Program | None = None, *, run_worker: bool = False
) -> web.Application:
    """The webhook app; with `run_worker`, the flow worker runs in this process too."""
    if program is None:
        loaded = load_program(settings.keywords_dir, settings.short_link_base)
        for warning in loaded.warnings:
            if warning.severity == "warning":
                log.warning("%s", warning)
        program = loaded.program
    services = Services(settings=settings, program=ProgramHolder(program))

    quiet_callers_faults()
    app = web.Application(middlewares=[request_id, no_500], client_max_size=MAX_REQUEST)
    app[SERVICES] = services
    app.cleanup_ctx.append(_redis)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_watch_program)
    if run_worker:
        app.cleanup_ctx.append(_flow_worker)
    setup_routes(app)  # the carrier's, the store's and the admin API's
    dashboard_pages.setup(app)  # the dashboard, which reads through the API's helpers
    return app


async def _redis(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    settings = services.settings
    async with redis_client(settings.redis_url, settings.data_dir) as client:
        services.redis = client
        app[_PIPELINE] = AutoPipeline(client)
        yield


async def _database(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    settings = services.settings
    assert services.redis is not None
    engine = db.create_engine(settings.database_url)
    await db.upgrade(engine)
    writer = Writer(
        engine, settings.database_url, program=lambda: services.program.current, policy=settings.policy
    )
    writer.start()
    services.engine, services.writer = engine, writer
    reads = db.Reads(engine, settings.database_url)
    services.destinations = Destinations(reads, settings.answer_within)
    pipeline = app[_PIPELINE]
    coord = Coordinator(
        services.redis,
        prefix=settings.redis_prefix,
        replay_ttl=settings.replay_ttl,
        lock_ttl=max(30.0, settings.lock_timeout * 3),
        pipeline=pipeline,
    )
    rate = RateLimiter(services.redis, settings.redis_prefix, settings.send_rate, pipeline=pipeline)
    services.inbound = Inbound(coord, writer, rate, settings.lock_timeout)
    try:
        yield
    finally:
        await writer.close()  # everything the carrier handed us is committed before we go
        reads.close()
        await engine.dispose()


async def _watch_program(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    watcher = ProgramWatcher(services.settings.keywords_dir, services.program)
    services.watcher = watcher
    watcher.start()
    try:
        yield
    finally:
        await watcher.stop()


async def _flow_worker(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    assert services.engine is not None and services.redis is not None
    sender = make_sender(services.settings)
    worker = Worker(
        services.settings, services.engine, services.redis, lambda: services.program.current, sender
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="flow-worker")
    try:
        yield
    finally:
        stop.set()
        await task  # a send under way finishes and is recorded
        await sender.close()
        worker.close()
