"""`massicot station` in its own process, for the console's browser tests: start, kill, start again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from testkit.net import free_port


class ConsoleProcess:
    """The station console on 127.0.0.1:port; start() again after a kill reuses the same port and home."""

    def __init__(self, home: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.extra = list(extra)
        self.env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = home.parent / f"{home.name}-console.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ConsoleProcess:
        command = [
            str(Path(sys.executable).with_name("massicot")),
            "station",
            "--home",
            str(self.home),
            "--no-browser",
            "--port",
            str(self.port),
            *self.extra,
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the console stopped at start:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/start", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the console did not answer within {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL of the whole group, as a power cut would: scanimage and the sender go with it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
