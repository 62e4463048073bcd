"""Run `smsbot serve` as a real process for tests that need signals and restarts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import ClassVar

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    started: ClassVar[list[Server]] = []  # the `stop_servers` fixture stops any a test left running

    def __init__(self, data_dir: Path, database_url: str, redis_url: str | None, **env: str) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "SMSBOT_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "SMSBOT_ADMIN_TOKEN": "admin-secret",
            **env,
        }
        self.env.pop("TWILIO_AUTH_TOKEN", None)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.log = data_dir / f"serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        Server.started.append(self)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--port",
                str(self.port),
                "--config",
                str(ROOT / "config.yaml"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def stop(self, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
