"""What really happened to every page and copy of a generated session (truth.json).

Conventions: `rotation` is the clockwise rotation applied to the upright page (0 or 180),
`skew` the angle in degrees the sheet was turned counter-clockwise (OpenCV's convention),
`source` is "FILE#INDEX" like scanner.sources.SourcePage.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class TruthPage:
    position: int  # 0-based place in the scan order, the same in every output format
    sources: list[str]  # "FILE#INDEX" in each format written
    copy_id: str | None  # the copy this sheet physically belongs to (None: a stray blank)
    paper: str | None  # paper code printed on the page, None when nothing is printed
    page: int | None  # page number printed on it, None for annexes and blank versos
    rotation: int  # 0 or 180
    skew: float
    blank: bool  # nothing printed or written on this side
    written: bool  # the candidate wrote in the answer area
    defect: str | None  # upside_down, blank_verso, duplicate_page, annex, foreign_copy, ...


@dataclass
class TruthCopy:
    copy_id: str
    paper: str
    candidate: str | None  # who really handed it in (registration number)
    label_registration: str | None  # what a reader can get from the label (None: no or torn label)
    label: str  # ok, torn, none
    expected_status: str  # present, blank, absent, foreign
    pages: int  # pages printed in the booklet
    missing_pages: list[int] = field(default_factory=list)
    duplicated_pages: list[int] = field(default_factory=list)
    annex_after_page: int | None = None
    defects: list[str] = field(default_factory=list)
    continues: str | None = None  # an extra booklet: the copy it continues


@dataclass
class Truth:
    paper: str
    dpi: int
    seed: int
    formats: list[str]
    pages: list[TruthPage]
    copies: list[TruthCopy]
    defects_requested: dict
    files: dict[str, str]  # format → file or folder written

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path: Path) -> Truth:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        raw["pages"] = [TruthPage(**p) for p in raw["pages"]]
        raw["copies"] = [TruthCopy(**c) for c in raw["copies"]]
        return cls(**raw)
