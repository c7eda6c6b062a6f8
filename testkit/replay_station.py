"""Runs one scanning session with the replay test double, as `massicot scan sane` runs one with SANE.

Used by the kill-at-random test as a subprocess: `python -m testkit.replay_station PILE ROLL LOT`.
The secretary is scripted: after a fault she presses Enter; when the feeder is empty she loads
the next sheets, or says "end" once the whole pile went through.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rich.console import Console

from massicot_core.errors import UserError
from scanner.feeder import FeedEnd
from scanner.live import LiveDisplay
from scanner.station import open_lot, scan_session
from testkit.replay import ReplayFault, ReplayFeeder

# The faults every run of this pile meets: a jam that had read its sheet whole (so the sheet
# comes twice), a jam that had not, an open cover.
FAULTS = [
    ReplayFault(before_sheet=5, end=FeedEnd.JAMMED, sheet_read=True),
    ReplayFault(before_sheet=11, end=FeedEnd.JAMMED),
    ReplayFault(before_sheet=17, end=FeedEnd.COVER_OPEN),
]
CAPACITY = 12  # sheets the feeder holds: the secretary loads the pile in several goes


def make_feeder(pile: Path, seconds_per_page: float = 0.0) -> ReplayFeeder:
    return ReplayFeeder.from_folder(
        pile, capacity=CAPACITY, faults=list(FAULTS), seconds_per_page=seconds_per_page
    )


def secretary_for(feeder: ReplayFeeder):
    def answer(question: str) -> str:
        return "" if feeder.position < len(feeder.sheets) else "end"

    return answer


def main(pile: Path, roll: Path, lot_dir: Path) -> int:
    # A feeder's pace (a school ADF reads 2-3 pages/s): kills then land all along the pile.
    feeder = make_feeder(pile, float(os.environ.get("REPLAY_SECONDS_PER_PAGE", "0")))
    try:
        lot = open_lot(lot_dir, "U3", roll)
        ui = LiveDisplay(
            Console(highlight=False, width=160), lot_dir=str(lot_dir), quiet=True, ask=secretary_for(feeder)
        )
        scan_session(lot, feeder, ui)
    except UserError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
