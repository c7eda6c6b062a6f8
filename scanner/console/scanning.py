"""The scan running behind the console page: a background thread, its progress, its questions.

The thread runs the very services of `massicot scan sane / watch / import` (scanner.station's
scan_session and watch_session, scanner.importing's import_files). What the terminal's live
display shows, `ConsoleUI` keeps for the page to poll (counts, pages per second, the last pages,
the anomalies so far); what the terminal asks ("press Enter"), it asks the page, and waits for
the operator's "continue" or "the pile is finished".
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from massicot_core.errors import UserError
from scanner.feeder import FeedEnd, FeedResult
from scanner.lot import Lot, PageRecord
from scanner.report import LotView, build_view

SHOWN_PAGES = 6


@dataclass
class Progress:
    running: bool = False
    kind: str = ""  # sane | watch | files
    pages: int = 0  # received by this job
    copies: int = 0
    anomalies: int = 0
    rate: float = 0.0
    last: list[str] = field(default_factory=list)  # page keys, newest last
    question: str = ""  # a words key: the page shows it with "continue"
    detail: str = ""
    error: str = ""  # a words key or the service's own sentence (the scan stopped)
    done: bool = False

    def as_json(self, t: Callable[..., str]) -> dict:
        return {
            "running": self.running,
            "kind": self.kind,
            "pages": self.pages,
            "copies": self.copies,
            "anomalies": self.anomalies,
            "rate": round(self.rate, 1),
            "last": list(self.last),
            "question": t(self.question, detail=self.detail) if self.question else "",
            "error": t(self.error, detail=self.detail) if self.error else "",
            "done": self.done,
            "done_words": t("console.scan.done", pages=self.pages) if self.done else "",
        }


def feed_question(result: FeedResult) -> str:
    """The words key for how a feed stopped (console.feed.*)."""
    known = {
        FeedEnd.EMPTY,
        FeedEnd.JAMMED,
        FeedEnd.COVER_OPEN,
        FeedEnd.DOUBLE_FEED,
        FeedEnd.HUNG,
        FeedEnd.IO_ERROR,
        FeedEnd.BUSY,
    }
    return f"console.feed.{result.end.value}" if result.end in known else "console.feed.other"


class ConsoleUI:
    """scanner.station.StationUI for the page: keeps what to show, blocks on what to ask."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._answer: str | None = None
        self._answered = threading.Event()
        self._first_at: float | None = None
        self._last_result: FeedResult | None = None
        self._view_at = 0.0

    def _refresh(self, view: LotView) -> None:
        self.progress.copies = len(view.grouping.copies)
        self.progress.anomalies = len(view.anomalies)

    def started(self, description: str, view: LotView) -> None:
        self._refresh(view)

    def page(self, record: PageRecord, new: bool, view: Callable[[], LotView]) -> None:
        now = time.monotonic()
        if new:
            self.progress.pages += 1
            self._first_at = self._first_at or now
            if self.progress.pages > 1:
                self.progress.rate = (self.progress.pages - 1) / max(now - self._first_at, 1e-6)
        self.progress.last = (self.progress.last + [record.key])[-SHOWN_PAGES:]
        if now - self._view_at > 0.5:  # the view costs O(pages): not once per page on a fast scanner
            self._view_at = now
            self._refresh(view())

    def feed_ended(self, result: FeedResult, view: LotView) -> None:
        self._last_result = result
        self._refresh(view)

    def note(self, text: str) -> None:
        pass  # the check step shows what the notes said, as anomalies and notices

    def ask(self, text: str) -> str | None:
        result = self._last_result
        self.progress.question = feed_question(result) if result else "console.feed.empty"
        self.progress.detail = result.detail if result else ""
        self._answered.clear()
        self._answered.wait()
        self.progress.question = ""
        return self._answer

    def answer(self, value: str) -> None:
        self._answer = value
        self._answered.set()

    def finished(self, view: LotView) -> None:
        self._refresh(view)


class ScanJob:
    """One background scan on one lot. `stop()` ends a folder watch; `answer()` a question."""

    def __init__(self, lot: Lot, kind: str, work: Callable[[ConsoleUI, threading.Event], None]) -> None:
        self.lot = lot
        self.progress = Progress(running=True, kind=kind)
        self.ui = ConsoleUI(self.progress)
        self.stopping = threading.Event()
        self._work = work
        self.thread = threading.Thread(target=self._run, name=f"scan-{lot.folder.name}", daemon=True)

    def start(self) -> ScanJob:
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self._work(self.ui, self.stopping)
            self.progress.done = True
        except UserError as exc:  # the service's plain words: what stopped, what is kept, what to do
            last = self.ui._last_result
            stopped_by_scanner = (
                last is not None and last.end is not FeedEnd.EMPTY and not last.end.recoverable
            )
            self.progress.error = feed_question(last) if stopped_by_scanner else str(exc)
            self.progress.detail = last.detail if stopped_by_scanner else ""
        except OSError as exc:
            self.progress.error = f"{exc.strerror or exc}"
        finally:
            self.progress.running = False
            self.progress.question = ""
            with contextlib.suppress(UserError, OSError):
                self.ui._refresh(build_view(self.lot.state()))

    def answer(self, value: str) -> None:
        self.ui.answer(value)

    def stop(self) -> None:
        self.stopping.set()
        self.ui.answer("end")


def sane_work(lot: Lot, device: str, spool: Path, stall_seconds: float | None, faults: str | None):
    """The body of `massicot scan sane`, for a thread."""

    def work(ui: ConsoleUI, stopping: threading.Event) -> None:
        import secrets
        from datetime import datetime

        from scanner.sane_device import (
            SaneFeeder,
            TestBackendFault,
            choose_device,
            device_options,
            profile_for,
            settings_for,
            spool_is_writable,
        )
        from scanner.station import scan_session

        spool_is_writable(spool)
        chosen = choose_device(device)
        settings = settings_for(
            chosen, profile_for(chosen), device_options(chosen), stall_seconds=stall_seconds
        )
        plan = TestBackendFault.parse_plan(faults) if faults else None
        run_id = f"sane-{datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
        scan_session(lot, SaneFeeder(settings, spool, run_id, plan), ui)

    return work


def watch_work(lot: Lot, folder: Path, settle: float):
    """The body of `massicot scan watch`, for a thread; it ends when the operator says so."""

    def work(ui: ConsoleUI, stopping: threading.Event) -> None:
        from scanner.hotfolder import HotFolder
        from scanner.station import watch_session

        hot = HotFolder(folder, settle=settle)

        calls = [0]

        def clock() -> float:
            # "the pile is finished": each reading jumps far ahead, so the watch sees an idle time
            # beyond its bound and stops (a finite jump: the watch subtracts two readings).
            if stopping.is_set():
                calls[0] += 1
                return time.monotonic() + 2e9 * calls[0]
            return time.monotonic()

        watch_session(lot, hot, ui, until_idle=1e9, clock=clock)

    return work


def files_work(lot: Lot, paths: list[Path]):
    """The body of `massicot scan import`, for a thread."""

    def work(ui: ConsoleUI, stopping: threading.Event) -> None:
        from scanner.importing import ImportProgress, import_files

        def update(p: ImportProgress) -> None:
            ui.progress.pages = p.received
            ui.progress.rate = p.pages_per_second
            ui.progress.anomalies = p.to_check

        with lot.writing():
            import_files(lot, paths, workers=1, on_update=update)

    return work
