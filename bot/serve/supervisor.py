"""`smsbot serve` with several workers: one process, and so one GIL, per core, on one port.

The supervisor starts the embedded Redis (when REDIS_URL is unset) and applies migrations once,
then runs the workers with SO_REUSEPORT so the kernel spreads connections over them. SIGTERM is
passed on; each worker finishes its in-flight requests and commits. A worker that dies is
started again, unless it died straight after starting (a port taken, a broken program), which
stops everything with an error instead of looping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bot.coord.embedded import EmbeddedRedis
from bot.settings import Settings
from bot.store import db

log = logging.getLogger(__name__)
EARLY_EXIT = 5.0  # seconds: a worker dying sooner than this after its start is not restarted


def worker_count(requested: int) -> int:
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


async def supervise(settings: Settings, commands: Sequence[Sequence[str]]) -> int:
    """Run each command as a child (the web workers, and the flow worker unless it runs elsewhere)."""
    # Signals first: a SIGTERM during start-up must still stop the embedded Redis on the way out.
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    env = dict(os.environ)
    embedded: EmbeddedRedis | None = None
    if settings.redis_url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        env["REDIS_URL"] = await embedded.start()
    try:
        engine = db.create_engine(settings.database_url)
        try:
            await db.upgrade(engine)
        finally:
            await engine.dispose()
        if stopping.is_set():
            return 0
        return await _run(commands, env, settings.shutdown_timeout, stopping)
    finally:
        if embedded is not None:
            await embedded.stop()


async def _run(
    commands: Sequence[Sequence[str]], env: dict[str, str], grace: float, stopping: asyncio.Event
) -> int:
    loop = asyncio.get_running_loop()
    workers = len(commands)

    async def start(i: int) -> asyncio.subprocess.Process:
        # A session of its own: a Ctrl-C reaches the supervisor only, which passes on one SIGTERM.
        return await asyncio.create_subprocess_exec(*commands[i], env=env, start_new_session=True)

    procs: list[asyncio.subprocess.Process] = []

    def reload_all() -> None:  # SIGHUP: every worker reloads the keyword program now
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGHUP)

    loop.add_signal_handler(signal.SIGHUP, reload_all)
    procs.extend([await start(i) for i in range(workers)])
    started = [loop.time()] * workers
    log.info("supervising %d workers (pids %s)", workers, ", ".join(str(p.pid) for p in procs))
    failed = False
    stop_wait = asyncio.create_task(stopping.wait())
    while not stopping.is_set():
        waits = {asyncio.create_task(p.wait()): i for i, p in enumerate(procs)}
        done, _ = await asyncio.wait([*waits, stop_wait], return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            if task not in done:
                task.cancel()
        for task in done:
            if task is stop_wait:
                continue
            i = waits[task]
            code = procs[i].returncode
            if loop.time() - started[i] < EARLY_EXIT:
                log.error("worker %d exited with %s right after starting; stopping", procs[i].pid, code)
                failed = True
                stopping.set()
                break
            log.error("worker %d exited with %s; starting another", procs[i].pid, code)
            procs[i], started[i] = await start(i), loop.time()

    for proc in procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    try:
        codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), grace + 10)
    except TimeoutError:
        log.error("workers did not stop within %.0fs; killing them", grace + 10)
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
        codes = [await p.wait() for p in procs]
    stop_wait.cancel()
    # -SIGTERM: the worker was stopped before aiohttp installed its handlers, which it does before
    # it listens; it never took a request, so there was nothing to finish.
    codes = [0 if code == -signal.SIGTERM else code for code in codes]
    if failed or any(code != 0 for code in codes):
        log.error("workers exited with %s", codes)
        return 1
    return 0


def worker_command(config: str | None, host: str, port: int) -> list[str]:
    argv = [sys.executable, "-m", "bot", "serve", "--worker", "--host", host, "--port", str(port)]
    if config:
        argv += ["--config", config]
    return argv


def flow_worker_command(config: str | None) -> list[str]:
    argv = [sys.executable, "-m", "bot", "worker"]
    if config:
        argv += ["--config", config]
    return argv
