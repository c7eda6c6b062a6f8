"""The live display: what a secretary sees on the terminal while the pile goes through."""

from __future__ import annotations

import io

from rich.console import Console

from scanner.feeder import FeedEnd
from scanner.live import LiveDisplay, page_state
from scanner.station import open_lot, scan_session
from testkit.replay import ReplayFault, ReplayFeeder


def test_live_panel_counts_pages_copies_and_lists_anomalies_as_they_come(sample_pile, tmp_path):
    feeder = ReplayFeeder.from_folder(
        sample_pile.jpeg, capacity=40, faults=[ReplayFault(before_sheet=4, end=FeedEnd.JAMMED)]
    )
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=140, color_system=None, highlight=False)
    questions: list[str] = []
    panels: list[str] = []

    def answer(prompt: str) -> str:
        return "" if feeder.position < len(feeder.sheets) else "end"

    display = LiveDisplay(console, lot_dir="LOT", ask=answer)
    original_page = display.page

    def page(record, new, view):  # keep what the panel said after every page
        original_page(record, new, view)
        capture = Console(file=io.StringIO(), width=140, color_system=None)
        capture.print(display._panel())
        panels.append(capture.file.getvalue())

    display.page = page
    original_ask = display.ask
    display.ask = lambda text: questions.append(text) or original_ask(text)
    lot = open_lot(tmp_path / "lot", "U3", sample_pile.roll)
    _, view = scan_session(lot, feeder, display)

    assert display.interactive
    assert "Pages scanned" in panels[0] and "Copies complete" in panels[0] and "pages/s" in panels[0]
    assert any("PAPER JAM" in p or "Paper jam" in q for p in panels for q in questions)
    assert "Pages scanned    31" in panels[-1]
    assert any("code read, upside down" in p for p in panels)  # the generator's upside-down sheet
    assert any("blank" in p for p in panels)
    # the anomaly list grows as the pile goes through
    counts = [p.count("! ") for p in panels]
    assert counts[0] <= counts[len(counts) // 2] <= counts[-1] and counts[-1] > 0
    assert any("page scanned twice" in p for p in panels)
    out = screen.getvalue()
    assert "registered 6 · present 5 · absent 1" in out  # the end summary against the roll
    assert "remove the jammed sheet" in " ".join(questions)


def test_page_states_in_plain_words():
    from scanner.lot import PageRecord
    from scanner.pages import PageAnalysis

    def record(**changes):
        base = dict(
            source="s#0",
            paper="U3",
            copy_id="ABCDEFGH1",
            number=2,
            rotation=0,
            skew_degrees=0.0,
            blank=False,
            codes_read=4,
            codes_disagree=False,
            label_registration=None,
            label_unreadable=False,
            header_ink=False,
            width=10,
            height=10,
        )
        base.update(changes)
        return PageRecord("k", "s#0", "f", 0, "x", "image/jpeg", 300, "o", 0, analysis=PageAnalysis(**base))

    assert page_state(record())[0] == "code read: copy ABCDEFGH1 page 2"
    assert page_state(record(rotation=180))[0].startswith("code read, upside down")
    assert page_state(record(copy_id=None, number=None, blank=True))[0] == "blank"
    assert page_state(record(copy_id=None, number=None))[0] == "no code (annex?)"
