"""Per-page analysis: codes, orientation, skew, blank detection, identity label.

Takes a SourcePage, returns a PageAnalysis (plain data). No disk, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PageAnalysis:
    source: str  # "FILE#INDEX"
    paper: str | None  # paper code read from the page codes, None when no code was read
    copy_id: str | None
    number: int | None  # page number within the copy
    rotation: int  # 0, 90, 180 or 270: clockwise rotation that makes the page upright
    skew_degrees: float
    blank: bool
    codes_read: int  # how many corner codes were read and agreed
    codes_disagree: bool  # corner codes read but naming different copies/pages
    label_registration: str | None  # candidate registration number read from the label (page 1)
    label_unreadable: bool  # a label is there but could not be read (torn, crooked)
    header_ink: bool  # ink in the header outside the identity boxes: worth a look
    width: int
    height: int
    notes: list[str] = field(default_factory=list)
