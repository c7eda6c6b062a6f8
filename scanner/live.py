"""What the secretary sees while scanning: a live Rich panel, or plain lines when not on a terminal.

Shown live: pages scanned, copies complete, pages per second, the state of the last page
(code read / upside down / blank / no code), and the anomalies in plain words as they appear.
At the end: the lot against the roll (registered / present / absent / blank / copies found /
anomalies to resolve), the same words as `massicot scan report`.
Prompts (feeder empty, jam) pause the live panel so the question is readable and answerable.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from scanner.feeder import FeedEnd, FeedResult
from scanner.grouping import Anomaly
from scanner.lot import PageRecord
from scanner.report import KIND_WORDS, LotView, render_text, summary_line

# The lot's view (grouping + reconciliation) costs O(pages): refresh it at most this often, and
# at least every so many pages (a fast scanner or a replayed pile would otherwise outrun the clock).
VIEW_EVERY_SECONDS = 0.5
VIEW_EVERY_PAGES = 10
SHOWN_ANOMALIES = 12


def page_state(record: PageRecord) -> tuple[str, str]:
    """(words, Rich style) for the last page: what a secretary needs to know at a glance."""
    analysis = record.analysis
    if analysis is None:
        return (f"not readable: {record.error or 'waiting'}", "red")
    if analysis.blank:
        return ("blank", "dim")
    if analysis.copy_id is None:
        if analysis.codes_disagree:
            return ("codes disagree", "red")
        return ("no code (annex?)", "yellow")
    where = f"copy {analysis.copy_id} page {analysis.number}"
    if analysis.rotation == 180:
        return (f"code read, upside down (turned): {where}", "cyan")
    if analysis.rotation in (90, 270):
        return (f"code read, sideways (turned {analysis.rotation}°): {where}", "cyan")
    return (f"code read: {where}", "green")


def anomaly_words(anomaly: Anomaly) -> str:
    """One line: what kind of problem, then the pipeline's own plain words (they name the sheet)."""
    return f"{KIND_WORDS.get(anomaly.kind, anomaly.kind)}: {anomaly.message}"


class LiveDisplay:
    """scanner.station.StationUI for people: Rich live panel on a terminal, plain lines otherwise."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        lot_dir: str = "DIR",
        quiet: bool = False,
        ask: Callable[[str], str] | None = None,
    ):
        self.console = console or Console(highlight=False)
        self.lot_dir = lot_dir
        self.quiet = quiet
        self._input = ask or input
        self.interactive = self.console.is_terminal and not quiet
        self.description = ""
        self.scanned = 0
        self.already = 0
        self.first_page_at: float | None = None
        self.last_state: tuple[str, str] = ("—", "dim")
        self.feed_state = "scanning"
        self.view: LotView | None = None
        self._view_at = 0.0
        self._view_pages = 0  # pages seen when the view was last refreshed
        self._anomalies_said: set[tuple] = set()
        self.notes: list[str] = []
        self._live: Live | None = None

    # -- StationUI -------------------------------------------------------------------------

    def started(self, description: str, view: LotView) -> None:
        self.description = description
        self.view = view
        self._remember_anomalies(view, say=False)
        info = view.state.info
        self._line(
            f"Scanning with {description} into {self.lot_dir} (paper {info.paper}, "
            f"{len(info.roll)} candidates on the roll, {len(view.state.pages)} pages already in the lot)."
        )
        if self.interactive:
            self._live = Live(self._panel(), console=self.console, refresh_per_second=4, transient=False)
            self._live.start()

    def page(self, record: PageRecord, new: bool, view: Callable[[], LotView]) -> None:
        now = time.monotonic()
        if new:
            self.scanned += 1
            self.first_page_at = self.first_page_at or now
        else:
            self.already += 1
        self.last_state = page_state(record)
        seen = self.scanned + self.already
        if now - self._view_at >= VIEW_EVERY_SECONDS or seen - self._view_pages >= VIEW_EVERY_PAGES:
            self._view_pages = seen
            self._refresh(view())
        if not self.interactive and not self.quiet and new and self.scanned % 10 == 0:
            self._line(self._counters())
        self._update()

    def feed_ended(self, result: FeedResult, view: LotView) -> None:
        self._refresh(view)
        self.feed_state = {
            FeedEnd.EMPTY: "feeder empty",
            FeedEnd.JAMMED: "PAPER JAM",
            FeedEnd.COVER_OPEN: "COVER OPEN",
            FeedEnd.DOUBLE_FEED: "DOUBLE FEED",
        }.get(result.end, result.end.value)
        if not self.interactive:
            self._line(f"Feed ended ({self.feed_state}) after {result.pages} pages. {self._counters()}")
        self._update()

    def note(self, text: str) -> None:
        self.notes.append(text)
        if self.interactive and self._live is not None:
            self._live.console.print(Text(text, style="yellow"))
        else:
            self._line(text)

    def ask(self, text: str) -> str | None:
        if self._live is not None:
            self._live.stop()
        self.console.print(Text(text, style="bold"))
        try:
            answer = self._input("> " if self.console.is_terminal else "")
        except EOFError:
            answer = None
        if self._live is not None:
            self.feed_state = "scanning"
            self._live.start()
        return answer

    def finished(self, view: LotView) -> None:
        self._refresh(view)
        if self._live is not None:
            self._live.update(self._panel())
            self._live.stop()
            self._live = None
        if self.quiet:
            self.console.print(summary_line(view))
            return
        self.console.print()
        render_text(view, self.console, self.lot_dir)

    # -- drawing ---------------------------------------------------------------------------

    def _refresh(self, view: LotView) -> None:
        self.view = view
        self._view_at = time.monotonic()
        self._remember_anomalies(view, say=not self.interactive and not self.quiet)

    def _remember_anomalies(self, view: LotView, say: bool) -> None:
        for anomaly in view.anomalies:
            key = (anomaly.kind, anomaly.copy, anomaly.source, anomaly.candidate)
            if key not in self._anomalies_said:
                self._anomalies_said.add(key)
                if say and anomaly.kind not in ("missing_copy", "missing_page"):
                    # missing pages/copies are only known at the end: said in the summary
                    self._line(f"! {anomaly_words(anomaly)}")

    def pages_per_second(self) -> float:
        if self.first_page_at is None or self.scanned < 2:
            return 0.0
        elapsed = time.monotonic() - self.first_page_at
        return (self.scanned - 1) / elapsed if elapsed > 0 else 0.0

    def copies_complete(self) -> int:
        if self.view is None:
            return 0
        return sum(
            1 for c in self.view.reconciliation.copies if not c.recorded and c.status in ("ok", "blank")
        )

    def _counters(self) -> str:
        return (
            f"pages scanned {self.scanned}, copies complete {self.copies_complete()}, "
            f"{self.pages_per_second():.1f} pages/s, anomalies so far {len(self._anomalies_said)}"
        )

    def _panel(self) -> Panel:
        counters = Table.grid(padding=(0, 2))
        counters.add_row(
            "Pages scanned",
            f"[bold]{self.scanned}[/]" + (f" (+{self.already} already in the lot)" if self.already else ""),
        )
        counters.add_row("Copies complete", f"[bold]{self.copies_complete()}[/]")
        counters.add_row("Speed", f"{self.pages_per_second():.1f} pages/s")
        words, style = self.last_state
        counters.add_row("Last page", Text(words, style=style))
        counters.add_row("Scanner", self.feed_state)
        parts: list = [counters]
        anomalies = self.view.anomalies if self.view else []
        current = [a for a in anomalies if a.kind not in ("missing_copy", "missing_page")]
        if current:
            listing = Table(show_header=False, box=None, padding=(0, 1))
            for anomaly in current[-SHOWN_ANOMALIES:]:
                listing.add_row(Text("!", style="red"), Text(anomaly_words(anomaly)))
            more = len(current) - SHOWN_ANOMALIES
            parts.append(
                Text(
                    f"\nTo look at ({len(current)})"
                    + (f", the last {SHOWN_ANOMALIES}:" if more > 0 else ":"),
                    style="bold",
                )
            )
            parts.append(listing)
        return Panel(Group(*parts), title=self.description or "Scanning", title_align="left")

    def _update(self) -> None:
        if self._live is not None:
            self._live.update(self._panel())

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        self.console.print(text, soft_wrap=True)
