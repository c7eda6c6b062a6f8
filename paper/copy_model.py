"""The copy model: a booklet layout declared as data (templates/models/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_MODEL = "ccyc"

Box = tuple[float, float, float, float]  # x, y, width, height in mm, top-left origin


@dataclass(frozen=True)
class LabelSheet:
    page_mm: tuple[float, float]
    label_mm: tuple[float, float]
    origin_mm: tuple[float, float]
    pitch_mm: tuple[float, float]
    cols: int
    rows: int

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows

    def label_box(self, index: int) -> Box:
        """Box of the index-th label on its sheet, labels laid out row by row."""
        slot = index % self.per_sheet
        row, col = divmod(slot, self.cols)
        x = self.origin_mm[0] + col * self.pitch_mm[0]
        y = self.origin_mm[1] + row * self.pitch_mm[1]
        return (x, y, self.label_mm[0], self.label_mm[1])


@dataclass(frozen=True)
class CopyModel:
    name: str
    page_mm: tuple[float, float]
    symbology: str
    code_size_mm: float
    codes: dict[str, Box]
    header: Box
    label: Box
    identity_boxes: dict[str, Box]
    answer_first: Box
    answer: Box
    title_line: Box
    label_sheet: LabelSheet
    extra: dict = field(default_factory=dict)
    # Printed insert sheets (intercalaires): where candidates write, and the anonymity corner of
    # an answer sheet that has one (masked like a booklet's header).
    insert_answer: Box = (20.0, 50.0, 176.0, 220.0)
    insert_corner: Box = (110.0, 24.0, 92.0, 22.0)

    def as_json(self) -> dict:
        """The shape `massicot template show --json` promises to outside tools."""
        sheet = self.label_sheet
        return {
            "name": self.name,
            "page_mm": list(self.page_mm),
            "symbology": self.symbology,
            "zones": {
                "header": list(self.header),
                "label": list(self.label),
                "answer": list(self.answer_first),
                "answer_other_pages": list(self.answer),
                "codes": [list(self.codes[c]) for c in ("TL", "TR", "BL", "BR")],
                "code_corners": ["TL", "TR", "BL", "BR"],
                "identity_boxes": {k: list(v) for k, v in self.identity_boxes.items()},
            },
            "label_sheet": {
                "page_mm": list(sheet.page_mm),
                "label_mm": list(sheet.label_mm),
                "origin_mm": list(sheet.origin_mm),
                "pitch_mm": list(sheet.pitch_mm),
                "cols": sheet.cols,
                "rows": sheet.rows,
            },
        }

    def code_centre(self, corner: str) -> tuple[float, float]:
        x, y, w, h = self.codes[corner]
        return (x + w / 2, y + h / 2)


def _box(values) -> Box:
    x, y, w, h = (float(v) for v in values)
    return (x, y, w, h)


def _pair(values) -> tuple[float, float]:
    a, b = (float(v) for v in values)
    return (a, b)


@cache
def load_model(name: str = DEFAULT_MODEL) -> CopyModel:
    path = MODELS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in MODELS_DIR.glob("*.yaml")))
        raise ValueError(f"unknown copy model {name!r}; known models: {known}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    sheet = raw["label_sheet"]
    return CopyModel(
        name=raw["name"],
        page_mm=_pair(raw["page_mm"]),
        symbology=raw["symbology"],
        code_size_mm=float(raw["code_size_mm"]),
        codes={corner: _box(box) for corner, box in raw["codes"].items()},
        header=_box(raw["header"]),
        label=_box(raw["label"]),
        identity_boxes={k: _box(v) for k, v in raw["identity_boxes"].items()},
        answer_first=_box(raw["answer_first"]),
        answer=_box(raw["answer"]),
        title_line=_box(raw["title_line"]),
        extra={"print": raw.get("print", {})},
        **{
            f"insert_{name}": _box(box)
            for name, box in raw.get("inserts", {}).items()
            if name in ("answer", "corner")
        },
        label_sheet=LabelSheet(
            page_mm=_pair(sheet["page_mm"]),
            label_mm=_pair(sheet["label_mm"]),
            origin_mm=_pair(sheet["origin_mm"]),
            pitch_mm=_pair(sheet["pitch_mm"]),
            cols=int(sheet["cols"]),
            rows=int(sheet["rows"]),
        ),
    )
