"""`smsbot serve` with several web processes: one process, and so one GIL, per core, on one port.

The supervisor starts the embedded Redis (when REDIS_URL is unset) and applies migrations once,
then runs the web processes with SO_REUSEPORT so the kernel spreads connections over them, and the
flow worker beside them unless it runs elsewhere. SIGTERM is passed on; each child finishes its
in-flight requests and commits. A child that dies is started again, unless it died straight after
starting (a port taken, a broken program), which stops everything with an error instead of looping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.coord.client import redis_server
from bot.lifetime import die_with_parent
from bot.metrics import MULTIPROC_DIR
from bot.settings import Settings
from bot.store import db

log = logging.getLogger(__name__)
EARLY_EXIT = 5.0  # seconds: a child dying sooner than this after its start is not restarted
Command = Sequence[str]


def process_count(requested: int) -> int:
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


async def supervise(settings: Settings, commands: Sequence[Command]) -> int:
    """Run each command as a child (the web processes, and the flow worker unless it runs elsewhere)."""
    # Signals first: a SIGTERM during start-up must still stop the embedded Redis on the way out.
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with redis_server(settings.redis_url, settings.data_dir) as redis_url:
        engine = db.create_engine(settings.database_url)
        try:
            await db.upgrade(engine)
        finally:
            await engine.dispose()
        if stopping.is_set():
            return 0
        children = Children(commands, {**os.environ, "REDIS_URL": redis_url, **_metrics_dir(settings)})
        return await children.run(settings.shutdown_timeout, stopping)


def _metrics_dir(settings: Settings) -> dict[str, str]:
    """Where the children keep their metrics for /metrics to add up: emptied at each start (the
    counters of processes that are gone would otherwise be counted again). An operator's own
    PROMETHEUS_MULTIPROC_DIR is kept."""
    if os.environ.get(MULTIPROC_DIR):
        return {}
    folder = Path(settings.data_dir) / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return {MULTIPROC_DIR: str(folder)}


class Children:
    def __init__(self, commands: Sequence[Command], env: dict[str, str]) -> None:
        self.commands = commands
        self.env = env
        self.procs: list[asyncio.subprocess.Process] = []
        self.started: list[float] = []
        self.failed = False

    async def start(self, i: int) -> asyncio.subprocess.Process:
        # A session of its own: a Ctrl-C reaches the supervisor only, which passes on one SIGTERM.
        return await asyncio.create_subprocess_exec(
            *self.commands[i], env=self.env, start_new_session=True, preexec_fn=die_with_parent()
        )

    def reload_all(self) -> None:  # SIGHUP: every child reloads the keyword program now
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGHUP)

    async def run(self, grace: float, stopping: asyncio.Event) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self.reload_all)
        self.procs = [await self.start(i) for i in range(len(self.commands))]
        self.started = [loop.time()] * len(self.procs)
        log.info(
            "supervising %d processes (pids %s)", len(self.procs), ", ".join(str(p.pid) for p in self.procs)
        )
        stop_wait = asyncio.create_task(stopping.wait())
        try:
            while not stopping.is_set():
                await self._watch(stop_wait, stopping)
            codes = await self._stop(grace)
        finally:
            stop_wait.cancel()
        if self.failed or any(code != 0 for code in codes):
            log.error("processes exited with %s", codes)
            return 1
        return 0

    async def _watch(self, stop_wait: asyncio.Task[bool], stopping: asyncio.Event) -> None:
        """Wait for a child to exit, or for the signal to stop; start again what died late enough."""
        loop = asyncio.get_running_loop()
        waits = {asyncio.create_task(p.wait()): i for i, p in enumerate(self.procs)}
        done, _ = await asyncio.wait([*waits, stop_wait], return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            if task not in done:
                task.cancel()
        for i in (waits[task] for task in done if task is not stop_wait):
            proc = self.procs[i]
            if loop.time() - self.started[i] < EARLY_EXIT:
                log.error(
                    "process %d exited with %s right after starting; stopping", proc.pid, proc.returncode
                )
                self.failed = True
                stopping.set()
                return
            log.error("process %d exited with %s; starting another", proc.pid, proc.returncode)
            self.procs[i], self.started[i] = await self.start(i), loop.time()

    async def _stop(self, grace: float) -> list[int]:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        try:
            codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for p in self.procs)), grace + 10)
        except TimeoutError:
            log.error("processes did not stop within %.0fs; killing them", grace + 10)
            for proc in self.procs:
                if proc.returncode is None:
                    proc.kill()
            codes = [await p.wait() for p in self.procs]
        # -SIGTERM: the child was stopped before aiohttp installed its handlers, which it does before
        # it listens; it never took a request, so there was nothing to finish.
        return [0 if code == -signal.SIGTERM else code for code in codes]


def web_process_command(config: str | None, host: str, port: int) -> list[str]:
    argv = [sys.executable, "-m", "bot", "serve", "--web-process", "--host", host, "--port", str(port)]
    if config:
        argv += ["--config", config]
    return argv


def flow_worker_command(config: str | None) -> list[str]:
    argv = [sys.executable, "-m", "bot", "worker"]
    if config:
        argv += ["--config", config]
    return argv
