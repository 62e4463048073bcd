"""`smsbot worker`: the flow worker on its own, beside any number of `serve` processes.

It starts the same services as the server (database and migrations, Redis, the program and its
hot reload) but listens nowhere. SIGTERM lets a send under way finish and be recorded.
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from bot.app import create_app
from bot.memory import freeze_startup
from bot.settings import Settings


async def run_worker(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(create_app(settings, run_worker=True), handle_signals=False)
    await runner.setup()
    freeze_startup()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0
