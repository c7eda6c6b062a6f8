"""TEST DOUBLE: a document feeder that replays page images already on disk.

Not a scanner. It stands in for one where no real part can produce our booklets: SANE's
`test` device scans test patterns, never a page with a Massicot code. The pages it plays
come from the sample-scan generator (testkit.samples.session: `generate_session(...)` writes
`jpeg/0001.jpg`, `jpeg/0002.jpg`... in scan order), so the station's code path — the same
`Station.receive` → `Importer` → analysis → grouping → report as with the SANE feeder —
can be checked against the generator's truth.

It behaves like a feeder, faults included:
- it holds `capacity` sheets per load: after that the feed ends "feeder empty" and the
  station asks for the next sheets;
- `ReplayFault(before_sheet=k, end=FeedEnd.JAMMED)`: the feed stops at sheet k with that
  status, sheet k not delivered (the scanner dropped the half-read page); the secretary puts
  it back and sheet k comes first in the next feed;
- `ReplayFault(..., sheet_read=True)`: sheet k *was* read whole before the jam; putting it
  back makes the scanner read it a second time, which the station must recognise.

Each delivery is a source page named `PILE/NAME#PASS` (PASS 0 the first time a sheet goes
through, 1 when it is fed again). Its identity (`file_sha256`) is the SHA-256 of the pile
name, the sheet's position and its bytes: a rerun of the same pile after a kill delivers the
same identities, which the lot recognises as already received.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from scanner.feeder import FeedEnd, FeedResult, Receive
from scanner.sources import SourcePage

MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff"}


@dataclass(frozen=True)
class ReplaySheet:
    name: str
    data: bytes
    media_type: str


@dataclass(frozen=True)
class ReplayFault:
    before_sheet: int  # 0-based position in the pile of the sheet the fault catches
    end: FeedEnd
    sheet_read: bool = False  # the sheet was read whole before the fault (it will come twice)


class ReplayFeeder:
    """TEST DOUBLE for scanner.feeder.Feeder: plays a pile of page images, with faults."""

    def __init__(
        self,
        sheets: list[ReplaySheet],
        *,
        pile: str = "replay",
        capacity: int | None = None,
        faults: list[ReplayFault] | None = None,
        dpi: float | None = 300.0,
        seconds_per_page: float = 0.0,
    ):
        self.sheets = sheets
        self.pile = pile
        self.capacity = capacity
        self.faults = sorted(faults or [], key=lambda f: f.before_sheet)
        self.dpi = dpi
        self.seconds_per_page = seconds_per_page
        self.position = 0  # the next sheet in the feeder
        self._passes: dict[int, int] = {}

    @classmethod
    def from_folder(cls, folder: Path, **options) -> ReplayFeeder:
        """The page images of a folder in name order (the sample generator's `jpeg/` folder).

        Each image is read as `scan import` reads it (scanner.sources), so the resolution the
        scanner wrote in the file reaches the analysis exactly as it would from an import.
        """
        from scanner.sources import iter_source_pages

        sheets = []
        dpi = None
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in MEDIA_TYPES):
            pages = [p for p in iter_source_pages(path, path.name) if isinstance(p, SourcePage)]
            if len(pages) != 1:
                raise ValueError(f"{path} is not a single page image")
            sheets.append(ReplaySheet(path.name, pages[0].data, pages[0].media_type))
            dpi = dpi or pages[0].dpi
        options.setdefault("pile", folder.name)
        options.setdefault("dpi", dpi)
        return cls(sheets, **options)

    @property
    def description(self) -> str:
        return f"the replay test double ({len(self.sheets)} sheets from {self.pile})"

    def _page(self, position: int) -> SourcePage:
        sheet = self.sheets[position]
        passes = self._passes.get(position, 0)
        self._passes[position] = passes + 1
        identity = hashlib.sha256(f"{self.pile}\0{position}\0".encode() + sheet.data).hexdigest()
        return SourcePage(
            source=f"{self.pile}/{sheet.name}#{passes}",
            file_sha256=identity,
            index=passes,
            data=sheet.data,
            media_type=sheet.media_type,
            dpi=self.dpi,
        )

    def feed(self, receive: Receive) -> FeedResult:
        delivered = 0
        while self.position < len(self.sheets):
            if self.capacity is not None and delivered >= self.capacity:
                return FeedResult(FeedEnd.EMPTY, delivered)
            fault = next((f for f in self.faults if f.before_sheet == self.position), None)
            if fault is not None:
                self.faults.remove(fault)  # the secretary cleared it: it does not come back
                if fault.sheet_read:
                    receive(self._page(self.position))
                    delivered += 1
                # the sheet goes back on top of the pile: the next feed starts with it again
                return FeedResult(fault.end, delivered, "replayed fault")
            if self.seconds_per_page:
                time.sleep(self.seconds_per_page)
            receive(self._page(self.position))
            self.position += 1
            delivered += 1
        return FeedResult(FeedEnd.EMPTY, delivered)
