"""Hot reload: a changed keyword file (or SIGHUP) swaps in a new Program within a second.

The new program is compiled off the event loop and swapped in whole with one assignment; a
batch of messages reads the program once, so none is handled half-loaded. A broken edit is
refused with the checker's file:line messages in the log, and the last good program keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.model import Program
from bot.memory import refreeze
from bot.program.loader import keyword_files, load_program
from bot.program.yamlfile import FileProblems

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5

Snapshot = tuple[tuple[str, int, int], ...]


@dataclass
class ProgramHolder:
    """The program in force; swapped whole, so a request sees one version from start to end."""

    current: Program
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))  # when it came into force


def snapshot(directory: Path) -> Snapshot:
    found = []
    for path in keyword_files(directory):
        with contextlib.suppress(FileNotFoundError):
            info = path.stat()
            found.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(found)


class ProgramWatcher:
    def __init__(self, directory: Path, holder: ProgramHolder, poll: float = POLL_SECONDS) -> None:
        self.directory = directory
        self.holder = holder
        self.poll = poll
        self._seen = snapshot(directory)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reloads = 0
        self.refusals = 0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self._wake.set)  # not in a thread, not on Windows
        self._task = asyncio.create_task(self._run(), name="program-watcher")

    async def stop(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            forced = self._wake.is_set()
            self._wake.clear()
            now = await asyncio.to_thread(snapshot, self.directory)
            if forced or now != self._seen:
                self._seen = now
                await self.reload()

    async def reload(self) -> bool:
        try:
            loaded = await asyncio.to_thread(load_program, self.directory)
        except FileProblems as exc:
            self.refusals += 1
            log.error("keyword program NOT reloaded; still serving %s", self.holder.current.fingerprint)
            for problem in exc.problems:
                if problem.severity != "info":
                    log.error("%s", problem)
            return False
        except Exception:  # a bug must not stop the watcher: the old program keeps serving
            self.refusals += 1
            log.exception("keyword program NOT reloaded")
            return False
        for warning in loaded.warnings:
            if warning.severity == "warning":
                log.warning("%s", warning)
        if loaded.program.fingerprint != self.holder.current.fingerprint:
            self.holder.current = loaded.program
            self.holder.loaded_at = datetime.now(UTC)
            self.reloads += 1
            refreeze()
            log.info(
                "keyword program reloaded: %d keywords (%s)",
                len(loaded.program.keywords),
                loaded.program.fingerprint,
            )
        return True
