"""The scanning session: a feeder's pages, durably into the lot, through the scan pipeline.

The same path as `massicot scan import`: every page goes through `importing.Importer`
(original written + fsync'd, `received` journal entry, then analysis in reception order),
and the report, grouping and seal read the same journal. The station adds what a
scanner at the end of a cable needs:

- one page at a time: the feeder hands each page over as soon as it is whole, and it is
  in the lot (file + fsync + journal) before the next one is looked at;
- faults: on a jam, an open cover or a double feed the station keeps everything received,
  says in plain words what to do, waits for Enter and feeds again. The sheet that was being
  read is never half kept: the feeder delivers whole pages or nothing;
- a sheet fed twice: when the sheet put back after a jam had in fact been read whole, its
  second scan carries the same copy and page number as a page received just before the
  fault; the station recognises it and says so at once. It does not set either scan aside
  by itself: a second physical sheet with the same code (a real duplicate) looks the same
  to it, so the pipeline's `duplicate_page` anomaly asks the secretary to compare the two;
- a disk that fills up: the scanner is stopped, the pages received are kept, and the
  secretary is told which sheet to put back first;
- a restart after a crash or a power cut: pages already in the lot are recognised and not
  added twice, pages received but not analysed are analysed, then scanning goes on.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from massicot_core.errors import UserError
from scanner.feeder import FeedEnd, Feeder, FeedResult
from scanner.hotfolder import HotFolder
from scanner.importing import DISK_FULL, Importer
from scanner.importing import open_lot as open_lot  # the station opens its lot as `scan import` does
from scanner.lot import Lot, LotState, PageRecord, refuse_if_sealed
from scanner.pages import PageAnalysis
from scanner.report import LotView, build_view
from scanner.sources import SourcePage

# How many pages received just before a fault may come back when the pile is fed again:
# a jam can catch the sheet being read and the one just pulled behind it.
REFEED_WINDOW = 2
# Pages of another paper in a row, none of ours, before the station says the code looks wrong.
WRONG_PAPER_AFTER = 3


class StationUI(Protocol):
    """What the secretary sees and answers (scanner/live.py; a plain recorder in tests)."""

    def started(self, description: str, view: LotView) -> None: ...
    def page(self, record: PageRecord, new: bool, view: Callable[[], LotView]) -> None: ...
    def feed_ended(self, result: FeedResult, view: LotView) -> None: ...
    def note(self, text: str) -> None: ...
    def ask(self, text: str) -> str | None: ...  # None: no answer will come (end of input)
    def finished(self, view: LotView) -> None: ...


@dataclass
class SessionResult:
    received: int  # new pages this session
    already_there: int  # pages the lot already had (a restart)
    feeds: list[FeedResult] = field(default_factory=list)
    refed: list[tuple[str, str]] = field(default_factory=list)  # (second scan, first scan) of a re-fed sheet
    stopped: str | None = None  # why the session stopped before the secretary said "end"


def disk_full_words(lot: Lot, received: int, last: PageRecord | None) -> str:
    where = f"the last page kept is {last.source}" if last else "no page of this session was kept"
    if last and last.analysis and last.analysis.copy_id:
        where += f" (copy {last.analysis.copy_id}, page {last.analysis.number})"
    return (
        f"the disk holding the lot {lot.folder} is full. The scanner was stopped; the {received} pages "
        f"received in this session are kept and {where}. Free some space, put back in the feeder the "
        "sheets after that page, and run the same command again"
    )


class Station:
    """One scanning session on one lot. Use inside `with lot.writing():`."""

    def __init__(self, lot: Lot, state: LotState, ui: StationUI, *, workers: int = 1):
        self.lot = lot
        self.state = state
        self.ui = ui
        self.importer = Importer(lot, state, workers=workers)
        self.result = SessionResult(received=0, already_there=0)
        self._recent: deque[PageRecord] = deque(maxlen=REFEED_WINDOW)  # the last pages received
        self._before_fault: list[PageRecord] = []  # pages that may come back after a fault
        self._after_fault = 0  # pages received since the last fault
        self._last: PageRecord | None = None
        self._papers_seen: dict[str, int] = {}  # paper code read on the pages → how many
        self._wrong_paper_said = False

    def view(self) -> LotView:
        return build_view(self.state)

    # -- receiving -------------------------------------------------------------------------

    def receive(self, page: SourcePage) -> None:
        """The feeder's callback: the page is in the lot (and analysed) when this returns."""
        key = f"{page.file_sha256}:{page.index}"
        new = self.importer.receive(page)
        # A scanner page is a source file of its own: mark it whole, so the report does not
        # wait for the rest of a file that has no rest.
        self.importer.file_done(page.file_sha256, page.source.rsplit("#", 1)[0], 1)
        self.importer.finish()
        record = self.state.pages[key]
        # A restarted session meets its pages again; the re-fed sheet must be recognised then too.
        self._check_refeed(record)
        self._check_paper(record)
        self._recent.append(record)
        if new:
            self.result.received += 1
            self._last = record
        else:
            self.result.already_there += 1
        self.ui.page(record, new, self.view)

    def _check_paper(self, record: PageRecord) -> None:
        """Say at once when the pile is of another paper than --paper (a wrong code, or the wrong pile)."""
        if record.analysis is None or record.analysis.paper is None or self._wrong_paper_said:
            return
        seen = self._papers_seen
        seen[record.analysis.paper] = seen.get(record.analysis.paper, 0) + 1
        ours = self.state.info.paper
        others = {paper: n for paper, n in seen.items() if paper != ours}
        if seen.get(ours, 0) == 0 and sum(others.values()) >= WRONG_PAPER_AFTER:
            read = max(others, key=others.get)
            self._wrong_paper_said = True
            self.ui.note(
                f"The {sum(others.values())} pages read so far are of paper {read}, not {ours}: "
                f"check the paper code given with --paper, or that this is the right pile. "
                "They are kept and reported as pages of another paper."
            )

    def _check_refeed(self, record: PageRecord) -> None:
        if not self._before_fault or self._after_fault >= REFEED_WINDOW:
            return
        self._after_fault += 1
        mine = _identity(record.analysis)
        if mine is None:
            return
        for earlier in reversed(self._before_fault):  # the sheet read last is the likeliest
            if _identity(earlier.analysis) == mine:
                self.result.refed.append((record.source, earlier.source))
                copy, number = mine
                self.ui.note(
                    f"Sheet {record.source} is page {number} of copy {copy} again, right after the fault: "
                    f"if it is the sheet you put back, it had been read whole before ({earlier.source}). "
                    "Both scans are kept; the report asks you to compare them and set one aside."
                )
                return

    # -- the session -----------------------------------------------------------------------

    def run(self, feeder: Feeder) -> SessionResult:
        self.ui.started(feeder.description, self.view())
        waiting = self.importer.resume()
        if waiting:
            self.ui.note(f"{waiting} pages received before the interruption are being analysed.")
            self.importer.finish()
        try:
            while True:
                result = self._feed_once(feeder)
                self.result.feeds.append(result)
                self.ui.feed_ended(result, self.view())
                if result.end is FeedEnd.EMPTY:
                    answer = self.ui.ask(
                        "Feeder empty. Load the next sheets and press Enter; type 'end' and Enter when "
                        "the whole pile is scanned."
                    )
                    if answer is None or answer.strip().lower() in {"end", "e", "q", "quit", "fin"}:
                        break
                elif result.end.recoverable:
                    self._before_fault = list(self._recent)
                    self._after_fault = 0
                    answer = self.ui.ask(result.advice())
                    if answer is None or answer.strip().lower() in {"end", "q", "quit", "fin"}:
                        self.result.stopped = result.advice()
                        break
                else:
                    self.result.stopped = result.advice()
                    raise UserError(self._stopped_words(result))
            self.importer.finish()
        finally:
            self.importer.close()
        return self.result

    def _feed_once(self, feeder: Feeder) -> FeedResult:
        try:
            return feeder.feed(self.receive)
        except OSError as exc:
            stop = getattr(feeder, "stop", None)
            if stop:
                stop()
            if exc.errno in DISK_FULL:
                raise UserError(disk_full_words(self.lot, self.result.received, self._last)) from None
            raise UserError(
                f"the lot folder {self.lot.folder} cannot be written any more ({exc.strerror}). "
                f"The {self.result.received} pages received in this session are kept; fix the folder "
                "and run the same command again"
            ) from None

    def _stopped_words(self, result: FeedResult) -> str:
        kept = f"the {self.result.received} pages received in this session are kept"
        words = result.advice()
        return f"{words} ({kept})" if self.result.received else words


def _identity(analysis: PageAnalysis | None) -> tuple[str, int] | None:
    if analysis is None or analysis.copy_id is None or analysis.number is None:
        return None
    return analysis.copy_id, analysis.number


def scan_session(
    lot: Lot,
    feeder: Feeder,
    ui: StationUI,
    *,
    workers: int = 1,
) -> tuple[SessionResult, LotView]:
    """A whole session: scan, record what the station decided, then show the lot against the roll.

    When the session stops on an error the summary is shown all the same (what is in the lot
    is kept and counted), then the error's plain words.
    """
    station: Station | None = None
    try:
        with lot.writing():
            state = lot.state()
            refuse_if_sealed(state)
            station = Station(lot, state, ui, workers=workers)
            station.run(feeder)
    finally:
        if station is not None:
            with contextlib.suppress(UserError, OSError):
                ui.finished(build_view(lot.state()))
    return station.result, build_view(lot.state())


def watch_session(
    lot: Lot,
    hot: HotFolder,
    ui: StationUI,
    *,
    until_idle: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[int, LotView]:
    """Take each finished file of a hot folder through `scan import`'s path; returns (files taken, view).

    Runs until Ctrl-C, or until `until_idle` seconds pass without a file to take.
    """
    from scanner.importing import import_files

    taken = 0
    with lot.writing():
        state = lot.state()
        refuse_if_sealed(state)
        ui.started(f"the folder {hot.folder}", build_view(state))
        hot.start()
        last_activity = clock()
        try:
            while True:
                ready = hot.ready()
                for path in ready:
                    before = set(lot.state().pages)
                    try:
                        result = import_files(lot, [path], workers=1)
                    except OSError as exc:
                        if exc.errno in DISK_FULL:
                            raise UserError(
                                f"the disk holding the lot {lot.folder} is full while taking {path.name}. "
                                "Everything taken before is kept and the file stays in the folder: free some "
                                "space and run the same command again"
                            ) from None
                        raise UserError(
                            f"the lot folder {lot.folder} cannot be written any more ({exc.strerror}); "
                            f"{path.name} stays in the folder: "
                            f"fix the lot folder and run the same command again"
                        ) from None
                    state = lot.state()
                    fresh = [r for r in state.pages_in_order() if r.key not in before]
                    for record in fresh:
                        ui.page(record, True, lambda s=state: build_view(s))
                    if result.unreadable:
                        ui.note(
                            f"{path.name}: {result.unreadable} page(s) could not be read; "
                            "the report says why."
                        )
                    try:
                        hot.mark_done(path)
                    except OSError as exc:
                        raise UserError(
                            f"{path.name} is in the lot but cannot be moved into {hot.done_dir} "
                            f"({exc.strerror}): fix the folder's permissions and run the same command again "
                            "(the lot recognises the pages it already has)"
                        ) from None
                    taken += 1
                    last_activity = clock()
                if until_idle is not None and clock() - last_activity >= until_idle:
                    break
                if not ready:
                    hot.wait()
        except KeyboardInterrupt:
            ui.note("Stopped. Every file taken is in the lot; files not taken yet stay in the folder.")
        finally:
            hot.stop()
        view = build_view(lot.state())
        ui.finished(view)
    return taken, view
