"""create_app(settings): routes plus cleanup contexts for program, Redis and the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.coord.claims import Coordinator
from bot.coord.embedded import EmbeddedRedis
from bot.domain.model import Program
from bot.http.errors import no_500
from bot.http.routes import setup_routes
from bot.pipeline.writer import InboundWriter
from bot.program.loader import load_program
from bot.program.reload import ProgramWatcher
from bot.services import SERVICES, ProgramHolder, Services
from bot.settings import Settings
from bot.store import db
from bot.worker.loop import Worker, make_sender

log = logging.getLogger(__name__)
REDIS_CONNECTIONS = 64  # per process


def create_app(
    settings: Settings, program: Program | None = None, *, run_worker: bool = False
) -> web.Application:
    """The webhook app; with `run_worker`, the flow worker runs in this process too."""
    if program is None:
        loaded = load_program(settings.keywords_dir)
        for warning in loaded.warnings:
            if warning.severity == "warning":
                log.warning("%s", warning)
        program = loaded.program
    services = Services(settings=settings, program=ProgramHolder(program))
    if settings.twilio_auth_token:
        services.validator = RequestValidator(settings.twilio_auth_token)

    app = web.Application(middlewares=[no_500], client_max_size=1024 * 1024)
    app[SERVICES] = services
    app.cleanup_ctx.append(_redis)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_watch_program)
    if run_worker:
        app.cleanup_ctx.append(_flow_worker)
    setup_routes(app)
    return app


async def _redis(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    settings = services.settings
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url
    if url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        url = await embedded.start()
    # A bounded pool that waits for a free connection: a burst must queue for Redis, not open
    # hundreds of sockets at once (a unix socket refuses them with EAGAIN past its backlog).
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_CONNECTIONS, timeout=5, socket_timeout=5, socket_connect_timeout=5
    )
    client = aioredis.Redis(connection_pool=pool)
    services.redis = client
    services.coord = Coordinator(
        client,
        prefix=settings.redis_prefix,
        replay_ttl=settings.replay_ttl,
        lock_ttl=max(30.0, settings.lock_timeout * 3),
    )
    try:
        yield
    finally:
        await client.aclose()
        if embedded is not None:
            await embedded.stop()


async def _watch_program(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    watcher = ProgramWatcher(services.settings.keywords_dir, services.program)
    services.watcher = watcher
    watcher.start()
    try:
        yield
    finally:
        await watcher.stop()


async def _database(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    settings = services.settings
    engine = db.create_engine(settings.database_url)
    await db.upgrade(engine)
    writer = InboundWriter(
        engine,
        settings.database_url,
        program=lambda: services.program.current,
        policy=settings.policy,
    )
    writer.start()
    services.engine, services.writer = engine, writer
    try:
        yield
    finally:
        await writer.close()  # everything the carrier handed us is committed before we go
        await engine.dispose()


async def _flow_worker(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    assert services.engine is not None and services.redis is not None
    sender = make_sender(services.settings)
    worker = Worker(
        services.settings, services.engine, services.redis, lambda: services.program.current, sender
    )
    services.worker = worker
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="flow-worker")
    try:
        yield
    finally:
        stop.set()
        await task  # a send under way finishes and is recorded
        await sender.close()
        worker.close()
