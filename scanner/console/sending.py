"""Sending sealed lots: a queue on disk and the console's background sender.

The operator's "send" puts a marker file in the lot folder (home.QUEUED_FILE); the sender
thread pushes every queued lot with the same service as `massicot push` (scanner.push), and
when the server does not answer it keeps the lot queued, says so, and tries again with a
growing wait (backoff) until the server is back: no terminal has to stay open, and a station
started again after a reboot finds the queue where it was.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from massicot_core.errors import UserError
from scanner.console.home import QUEUED_FILE, StationHome, lot_state

_SENT = re.compile(r"sent (\d+) of (\d+) images")


@dataclass
class SendStatus:
    state: str = "idle"  # idle | sending | waiting | sent | refused
    done: int = 0
    total: int = 0
    reason: str = ""
    retry_in: float = 0.0
    copies: int = 0
    pages: int = 0
    lines: list[str] = field(default_factory=list)


class Sender:
    """One thread: pushes queued lots one after the other, retrying the unreachable server."""

    def __init__(
        self,
        home: StationHome,
        server: str | None,
        token: str | None,
        *,
        first_wait: float = 5.0,
        longest_wait: float = 300.0,
        patience: float = 20.0,
    ) -> None:
        self.home = home
        self.server = server
        self.token = token
        self.first_wait = first_wait
        self.longest_wait = longest_wait
        self.patience = patience  # seconds without an answer before one try gives up
        self.status: dict[str, SendStatus] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def queue(self, folder: Path) -> None:
        if self.server is None or self.token is None:
            raise UserError("console.send.no_server")
        (folder / QUEUED_FILE).write_text("queued by the station console\n")
        self.status[folder.name] = SendStatus(state="queued")
        self._wake.set()

    def status_of(self, folder: Path) -> SendStatus:
        found = self.status.get(folder.name)
        if found is not None:
            return found
        if lot_state(folder, sealed=(folder / "manifest.json").exists()) == "sent":
            return SendStatus(state="sent")
        return SendStatus()

    def _queued(self) -> list[Path]:
        return sorted(p.parent for p in (self.home.folder / "lots").glob(f"*/{QUEUED_FILE}"))

    def _run(self) -> None:
        wait = self.first_wait
        while not self._stop.is_set():
            pending = self._queued()
            failed = False
            for folder in pending:
                if self._stop.is_set():
                    return
                failed |= not self._send(folder, wait)
            if failed:
                self._wake.wait(wait)
                wait = min(wait * 2, self.longest_wait)
            else:
                wait = self.first_wait
                self._wake.wait(60)
            self._wake.clear()

    def _send(self, folder: Path, wait: float) -> bool:
        """One try; False when the server could not be reached (the lot stays queued)."""
        from scanner.push import PushOptions, push_lot
        from scanner.push_http import GaveUp

        status = self.status.setdefault(folder.name, SendStatus())
        status.state = "sending"

        def say(text: str) -> None:
            status.lines = (status.lines + [text])[-20:]
            found = _SENT.search(text)
            if found:
                status.done, status.total = int(found.group(1)), int(found.group(2))

        options = PushOptions(server=self.server or "", token=self.token or "", give_up_after=self.patience)
        try:
            report = push_lot(folder, options, say)
        except GaveUp:  # the server did not answer in time: keep the lot queued
            status.state, status.retry_in = "waiting", wait
            status.reason = status.lines[-1] if status.lines else ""
            return False
        except UserError as exc:  # refused by the server or by the lot's own check: retrying will not help
            status.state, status.reason = "refused", str(exc)
            (folder / QUEUED_FILE).unlink(missing_ok=True)
            return True
        except OSError as exc:
            status.state, status.reason, status.retry_in = "waiting", exc.strerror or str(exc), wait
            return False
        status.state, status.copies, status.pages = "sent", report.copies, report.pages
        status.done = status.total
        (folder / QUEUED_FILE).unlink(missing_ok=True)
        return True


def wait_until(predicate, seconds: float) -> bool:
    """For the command line and tests: poll until predicate() or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()
