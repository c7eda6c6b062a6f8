"""Sample scans: printed booklets, filled in and scanned as on a real exam evening.

Used by the tests, the demo and the benchmarks. Booklets and labels are printed with
templates.printing and rendered with pypdfium2 (each printed page once); the candidate's
hand, the stuck label, the paper and the scanner are then composed with numpy/OpenCV.
Everything that was done to a page is written beside the scans in truth.json, so a
test can compare what the scan station found with what really happened.

Conventions in the truth: `rotation` is the clockwise rotation applied to the upright
page (0 or 180), `skew` the angle in degrees the sheet was turned counter-clockwise
(OpenCV's convention), `source` is "FILE#INDEX" like scanner.sources.SourcePage.
A skewed sheet is scanned as a scanner set to automatic size does: the image is the
sheet's bounding box, a little larger than A4, with the backing showing around it.
"""

from __future__ import annotations

import json
import random
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium

from massicot_core.errors import UserError
from massicot_core.identifiers import new_copy_id
from massicot_core.roll import RollLine
from paper.copy_model import Box, CopyModel, load_model
from paper.printing import booklet_pdf, check_paper_format, labels_pdf, pdf_pages_per_booklet

FORMATS: tuple[str, ...] = ("jpeg", "pdf", "tiff")
JPEG_QUALITY = 75
# The scanner's backing plate, seen around a skewed sheet: most document scanners have a
# white one; pass backing=200 (gray) or 40 (black, used for automatic cropping) to try others.
BACKING_GRAY = 250
_TEXT = (
    "la fonction est derivable sur donc on calcule le signe de la derivee puis les variations "
    "soit le systeme etudie en regime permanent la tension aux bornes vaut alors on en deduit "
    "que le rendement du moteur est egal au rapport des puissances d'apres le document reponse "
    "question suivante on remarque que par consequent le resultat obtenu est coherent avec"
)
WORDS = tuple(_TEXT.split())


# ---------------------------------------------------------------- what may go wrong


@dataclass(frozen=True)
class DefectPlan:
    """How many of each defect of a real evening to inject (0 = none)."""

    upside_down: int = 0  # pages fed upside down (180°)
    skew_max_deg: float = 0.0  # every page turned by a random angle in ±skew_max_deg
    blank_verso: int = 0  # blank back sides from a duplex scan, after random pages
    missing_page: int = 0  # copies with one page (not page 1) never scanned
    duplicate_page: int = 0  # copies with one page scanned twice
    foreign_copy: int = 0  # copies of another paper slipped into the pile
    annex: int = 0  # copies with an annex sheet (no code) stapled after a page
    torn_label: int = 0  # labels with half torn off: unreadable
    no_label: int = 0  # present candidates who did not stick their label
    blank_copy: int = 0  # present candidates who handed in an empty booklet
    missing_copy: int = 0  # present candidates whose copy never reached the scanner
    duplicate_copy: int = 0  # copies scanned twice (a batch fed again after a jam)
    header_ink: int = 0  # candidates who wrote an answer in the header, outside the identity boxes

    @classmethod
    def none(cls) -> DefectPlan:
        return cls()

    @classmethod
    def all(cls) -> DefectPlan:
        return cls(
            upside_down=2,
            skew_max_deg=5.0,
            blank_verso=2,
            missing_page=1,
            duplicate_page=1,
            foreign_copy=1,
            annex=1,
            torn_label=1,
            no_label=1,
            blank_copy=1,
            missing_copy=1,
            duplicate_copy=1,
            header_ink=1,
        )

    @classmethod
    def parse(cls, text: str) -> DefectPlan:
        """`all`, `none`, or a comma list such as `upside_down=3,skew=2.5,torn_label`."""
        text = text.strip().lower()
        if text in ("", "none"):
            return cls.none()
        if text == "all":
            return cls.all()
        defaults = asdict(cls.all())
        values: dict[str, float] = {}
        for item in text.split(","):
            name, _, number = item.strip().partition("=")
            name = {"skew": "skew_max_deg"}.get(name.strip(), name.strip())
            if name not in defaults:
                known = ", ".join(["skew", *(f.name for f in fields(cls) if f.name != "skew_max_deg")])
                raise UserError(f"unknown defect {name!r}: use all, none or a comma list of {known}")
            try:
                values[name] = float(number) if number else defaults[name]
            except ValueError:
                raise UserError(f"defect {name}: {number!r} is not a number") from None
        return cls(**{k: (v if k == "skew_max_deg" else int(v)) for k, v in values.items()})


# ---------------------------------------------------------------- what really happened


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


# ---------------------------------------------------------------- the plan (pure data)


@dataclass
class _Copy:
    copy_id: str
    paper: str
    booklet_index: int  # index among the booklets printed for that paper
    line: RollLine
    status: str  # present, blank, absent, foreign
    label: str  # ok, torn, none
    birth_date: str
    ink: int  # gray level of this candidate's pen


@dataclass
class _Sheet:
    copy: _Copy | None
    page: int | None  # None: annex or blank verso
    kind: str  # booklet, annex, blank
    rotation: int = 0
    skew: float = 0.0
    defect: str | None = None


def _plan(
    paper: str,
    roll: list[RollLine],
    copy_ids: list[str],
    pages: int,
    plan: DefectPlan,
    rng: random.Random,
    foreign_paper: str,
) -> tuple[list[_Copy], list[_Sheet], dict[str, dict]]:
    copies: list[_Copy] = []
    for index, line in enumerate(roll):
        status = "present" if line.present else "absent"
        copies.append(
            _Copy(
                copy_id=copy_ids[index],
                paper=paper,
                booklet_index=index,
                line=line,
                status=status,
                # The centre sticks an absent candidate's label on a booklet marked ABSENT.
                label="ok",
                birth_date=f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2000, 2006)}",
                ink=rng.choice((28, 40, 55, 62, 70)),
            )
        )
    for n in range(plan.foreign_copy):
        line = RollLine(
            candidate=f"X{rng.randrange(10**7):07d}", name=f"Étranger Candidat{n + 1}", present=True
        )
        copies.append(
            _Copy(
                copy_id=new_copy_id(rng),  # type: ignore[arg-type]
                paper=foreign_paper,
                booklet_index=n,
                line=line,
                status="foreign",
                label="ok",
                birth_date="01/01/2004",
                ink=40,
            )
        )
    # Each copy-level defect goes to a different present candidate while there are enough,
    # so the truth stays unambiguous.
    present = [c for c in copies if c.status == "present"]
    rng.shuffle(present)
    marks: dict[str, dict] = {c.copy_id: {"defects": []} for c in copies}
    pool = list(present)

    def take(count: int, name: str) -> list[_Copy]:
        chosen = []
        for _ in range(count):
            if not pool:
                pool.extend(present)  # more defects than candidates: copies get several
            if not pool:
                break
            chosen.append(pool.pop())
            marks[chosen[-1].copy_id]["defects"].append(name)
        return chosen

    for c in take(plan.blank_copy, "blank_copy"):
        c.status = "blank"
    for c in take(plan.no_label, "no_label"):
        c.label = "none"
    for c in take(plan.torn_label, "torn_label"):
        if c.label == "ok":
            c.label = "torn"
    later_pages = list(range(2, pages + 1))
    for c in take(plan.missing_page, "missing_page") if later_pages else []:
        marks[c.copy_id]["missing"] = rng.choice(later_pages)
    for c in take(plan.duplicate_page, "duplicate_page"):
        marks[c.copy_id]["duplicate"] = rng.randint(1, pages)
    for c in take(plan.annex, "annex"):
        marks[c.copy_id]["annex_after"] = rng.randint(1, pages)
    for c in take(plan.missing_copy, "missing_copy"):
        marks[c.copy_id]["missing_copy"] = True
    for c in take(plan.duplicate_copy, "duplicate_copy"):
        marks[c.copy_id]["duplicate_copy"] = True
    for c in take(plan.header_ink, "header_ink"):
        marks[c.copy_id]["header_ink"] = True

    sheets: list[_Sheet] = []
    order = list(copies)
    for foreign in [c for c in copies if c.status == "foreign"]:
        # A copy of another room lands somewhere inside the pile, not neatly at its end.
        order.remove(foreign)
        order.insert(rng.randint(0, len(order)), foreign)
    again: list[_Copy] = []
    for c in order:
        mark = marks[c.copy_id]
        if mark.get("missing_copy"):
            continue
        if mark.get("duplicate_copy"):
            again.append(c)
        for page in range(1, pages + 1):
            if mark.get("missing") == page:
                continue
            defect = "foreign_copy" if c.status == "foreign" else None
            if page == 1 and mark.get("header_ink"):
                defect = "header_ink"
            sheets.append(_Sheet(c, page, "booklet", defect=defect))
            if mark.get("duplicate") == page:
                sheets.append(_Sheet(c, page, "booklet", defect="duplicate_page"))
            if mark.get("annex_after") == page:
                sheets.append(_Sheet(c, None, "annex", defect="annex"))
    for c in again:
        # The same sheets fed again later in the evening: somewhere after their first pass.
        last = max(i for i, sheet in enumerate(sheets) if sheet.copy is c)
        at = rng.randint(last + 1, len(sheets))
        sheets[at:at] = [_Sheet(c, page, "booklet", defect="duplicate_copy") for page in range(1, pages + 1)]
    for _ in range(plan.blank_verso):
        at = rng.randint(1, len(sheets))
        sheets.insert(at, _Sheet(sheets[at - 1].copy, None, "blank", defect="blank_verso"))
    printed = [i for i, s in enumerate(sheets) if s.kind == "booklet" and s.defect is None]
    for i in rng.sample(printed, min(plan.upside_down, len(printed))):
        sheets[i].rotation = 180
        sheets[i].defect = "upside_down"
    for s in sheets:
        s.skew = round(rng.uniform(-plan.skew_max_deg, plan.skew_max_deg), 2) if plan.skew_max_deg else 0.0
    return copies, sheets, marks


# ---------------------------------------------------------------- drawing


class _Artist:
    """Draws on page images at one resolution; boxes come in mm from the copy model."""

    def __init__(
        self,
        model: CopyModel,
        dpi: int,
        rng: random.Random,
        np_rng: np.random.Generator,
        backing: int = BACKING_GRAY,
    ):
        self.backing = backing
        self.model = model
        self.dpi = dpi
        self.ppm = dpi / 25.4
        self.rng = rng
        self.np_rng = np_rng
        # Paper texture and sensor noise, made once and cropped at random offsets per page:
        # generating a fresh 9-megapixel noise field per page would cost more than the rest.
        height, width = self.page_shape
        margin = 64
        noise = np_rng.normal(0.0, 2.0, (height + margin, width + margin)).astype(np.float32)
        noise += cv2.GaussianBlur(np_rng.normal(0.0, 1.5, noise.shape).astype(np.float32), (0, 0), 6) * 3
        self.noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self.noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self.margin = margin

    @property
    def page_shape(self) -> tuple[int, int]:
        w, h = self.model.page_mm
        return (round(h * self.ppm), round(w * self.ppm))

    def px(self, value_mm: float) -> int:
        return int(round(value_mm * self.ppm))

    # -- the candidate's hand

    def _text(self, img: np.ndarray, text: str, x: float, y: float, height_mm: float, ink: int) -> float:
        """Cursive-like text with its baseline at (x, y) mm; returns the x where it ends, in mm."""
        font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
        # Hershey fonts have no accents: "É" would come out as "?".
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        scale = height_mm * self.ppm / 22.0  # the Hershey script font is ~22 px high at scale 1
        thickness = max(1, round(0.35 * self.ppm))
        cv2.putText(img, text, (self.px(x), self.px(y)), font, scale, ink, thickness, cv2.LINE_AA)
        (width, _), _ = cv2.getTextSize(text, font, scale, thickness)
        return x + width / self.ppm

    def handwriting(self, img: np.ndarray, box: Box, ink: int) -> None:
        """Lines of cursive words on the rules, sometimes a question number or a sketch.

        `ink` is the pen's colour as a gray scanner sees it: blue ink comes out lighter than black.
        """
        x0, y0, w, h = box
        pitch = float(self.model.extra.get("print", {}).get("rule_pitch_mm", 8))
        lines = int(h // pitch)
        filled = self.rng.randint(max(2, lines // 3), lines)
        left = x0 + float(self.model.extra.get("print", {}).get("margin_line_mm", 20)) + 2
        for line in range(filled):
            baseline = y0 + (line + 1) * pitch - 1.2 + self.rng.uniform(-0.6, 0.4)
            x = left + (self.rng.uniform(0, 12) if self.rng.random() < 0.2 else 0)
            end = x0 + w - self.rng.uniform(2, 40 if line < filled - 1 else w * 0.7)
            if line == 0 or self.rng.random() < 0.12:  # a question number in the margin
                self._text(img, f"{self.rng.randint(1, 9)})", x0 + 3, baseline, 4.5, ink)
            while True:
                word = self.rng.choice(WORDS)
                size = self.rng.uniform(3.8, 5.0)
                if x + len(word) * size * 0.55 > end:
                    break
                x = self._text(
                    img, word, x, baseline + self.rng.uniform(-0.3, 0.3), size, ink
                ) + self.rng.uniform(1.5, 3.0)
        for _ in range(self.rng.randint(0, 2)):
            self._scribble(img, box, ink)

    def _scribble(self, img: np.ndarray, box: Box, ink: int) -> None:
        """A Bézier stroke: a diagram, an arrow, a crossing-out."""
        x0, y0, w, h = box
        pts = [
            (self.rng.uniform(x0 + 25, x0 + w - 5), self.rng.uniform(y0 + 5, y0 + h - 5)) for _ in range(4)
        ]
        t = np.linspace(0, 1, 60)[:, None]
        p = [np.array(q) for q in pts]
        curve = (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t**2 * p[2] + t**3 * p[3]
        poly = np.round(curve * self.ppm).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [poly], False, ink, max(1, round(0.4 * self.ppm)), cv2.LINE_AA)

    def identity(self, img: np.ndarray, name: str, birth_date: str, ink: int) -> None:
        surname, _, given = name.partition(" ")
        for key, text in (("surname", surname.upper()), ("given_names", given), ("birth_date", birth_date)):
            if key in self.model.identity_boxes and text:
                x, y, w, h = self.model.identity_boxes[key]
                self._text(img, text, x + 3, y + h - 2.3, 5.5, ink)

    def header_scrawl(self, img: np.ndarray, ink: int) -> None:
        """An answer begun in the header, below the identity boxes: the mask will hide it."""
        _, hy, _, hh = self.model.header
        x = min(box[0] for box in self.model.identity_boxes.values())
        self._text(img, "suite de la question 2 : voir page 3", x + 2, hy + hh - 1.8, 4.2, ink)

    def absent(self, img: np.ndarray) -> None:
        """ABSENT written by the centre across the name boxes, where the candidate would have
        written his name: the answer areas stay empty (and so does the header around the boxes)."""
        widest = max(b[2] for b in self.model.identity_boxes.values())
        boxes = {k: b for k, b in self.model.identity_boxes.items() if b[2] == widest}
        x0 = min(b[0] for b in boxes.values())
        x1 = max(b[0] + b[2] for b in boxes.values())
        y0 = min(b[1] for b in boxes.values())
        y1 = max(b[1] + b[3] for b in boxes.values())
        font = cv2.FONT_HERSHEY_DUPLEX
        thickness = max(2, round(1.2 * self.ppm))
        (tw, th), _ = cv2.getTextSize("ABSENT", font, 1.0, thickness)
        # As large as fits inside the boxes' span, a few millimetres in from every side.
        scale = min((x1 - x0 - 8) * self.ppm / tw, (y1 - y0 - 6) * self.ppm / th)
        (tw, th), _ = cv2.getTextSize("ABSENT", font, scale, thickness)
        org = (self.px((x0 + x1) / 2) - tw // 2, self.px((y0 + y1) / 2) + th // 2)
        cv2.putText(img, "ABSENT", org, font, scale, 25, thickness, cv2.LINE_AA)

    # -- the label

    def paste_label(self, img: np.ndarray, label: np.ndarray, torn: bool) -> None:
        label = label.copy()
        h, w = label.shape
        edge = max(1, round(0.15 * self.ppm))
        cv2.rectangle(label, (0, 0), (w - 1, h - 1), 205, edge)  # the sticker's edge catches the light
        angle = self.rng.uniform(-3.0, 3.0)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        bw, bh = w + self.px(6), h + self.px(6)
        m[0, 2] += (bw - w) / 2
        m[1, 2] += (bh - h) / 2
        # The sticker is opaque: it hides the box's caption. A torn part leaves the page visible.
        paper = self._tear(label) if torn else np.full((h, w), 255, np.uint8)
        turned = cv2.warpAffine(label, m, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=255)
        cover = cv2.warpAffine(paper, m, (bw, bh), flags=cv2.INTER_NEAREST, borderValue=0) > 0
        lx, ly, lw, lh = self.model.label
        cx = self.px(lx + lw / 2 + self.rng.uniform(-1.2, 1.2))
        cy = self.px(ly + lh / 2 + self.rng.uniform(-1.2, 1.2))
        x0, y0 = cx - bw // 2, cy - bh // 2
        region = img[y0 : y0 + bh, x0 : x0 + bw]
        rh, rw = region.shape
        np.copyto(region, turned[:rh, :rw], where=cover[:rh, :rw])

    def _tear(self, label: np.ndarray) -> np.ndarray:
        """Half the label torn away along a ragged line through the middle of its code.

        Returns the mask of what is left of the sticker.
        """
        parts = self.model.extra.get("print", {}).get("label_parts", {})
        cx, _, cw, _ = parts.get("code", (5, 7.5, 22, 22))
        h, w = label.shape
        step = max(2, self.px(1.5))
        left = np.zeros((h, w), np.uint8)
        for top in range(0, h, step):
            cut = self.px(cx + cw * self.rng.uniform(0.35, 0.55))
            label[top : top + step, cut:] = 255
            left[top : top + step, :cut] = 255
        return left

    # -- annex sheet (no code)

    def annex(self, ink: int) -> np.ndarray:
        height, width = self.page_shape
        img = np.full((height, width), 255, np.uint8)
        x0, y0, x1, y1 = self.px(25), self.px(40), width - self.px(25), height - self.px(40)
        step = self.px(5)
        for x in range(x0, x1 + 1, step):
            cv2.line(img, (x, y0), (x, y1), 200, 1)
        for y in range(y0, y1 + 1, step):
            cv2.line(img, (x0, y), (x1, y), 200, 1)
        self._text(img, "Document réponse — annexe", 25, 25, 6, 20)
        box = (25.0, 40.0, (x1 - x0) / self.ppm, (y1 - y0) / self.ppm)
        for _ in range(self.rng.randint(2, 4)):
            self._scribble(img, box, ink)
        return img

    # -- paper and scanner

    def scan(self, img: np.ndarray, rotation: int, skew: float) -> np.ndarray:
        paper = self.rng.randint(228, 244)
        out = cv2.convertScaleAbs(img, alpha=paper / 255.0)
        h, w = out.shape
        ox, oy = self.rng.randrange(self.margin), self.rng.randrange(self.margin)
        cv2.add(out, self.noise_up[oy : oy + h, ox : ox + w], dst=out)
        cv2.subtract(out, self.noise_down[oy : oy + h, ox : ox + w], dst=out)
        if skew:
            # The scanner crops to the skewed sheet's bounding box (its "automatic size"), so a
            # turned sheet keeps its corners; the backing shows around it.
            rad = np.radians(abs(skew))
            bw = int(np.ceil(w * np.cos(rad) + h * np.sin(rad)))
            bh = int(np.ceil(w * np.sin(rad) + h * np.cos(rad)))
            m = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
            m[0, 2] += (bw - w) / 2
            m[1, 2] += (bh - h) / 2
            out = cv2.warpAffine(out, m, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=self.backing)
        if rotation == 180:
            out = cv2.rotate(out, cv2.ROTATE_180)
        return out


# ---------------------------------------------------------------- encoding and writing


def encode_jpeg(gray: np.ndarray, dpi: int, quality: int = JPEG_QUALITY) -> bytes:
    """Grayscale (one component) baseline JPEG whose JFIF header states the resolution."""
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the page as JPEG")
    data = bytearray(buf.tobytes())
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
        # OpenCV writes "no unit, 1:1"; scanners write dots per inch, and readers use it.
        data[13] = 1
        data[14:16] = dpi.to_bytes(2, "big")
        data[16:18] = dpi.to_bytes(2, "big")
    return bytes(data)


class _Writers:
    def __init__(self, out_dir: Path, formats: tuple[str, ...], dpi: int):
        self.out_dir = out_dir
        self.formats = formats
        self.dpi = dpi
        self.files: dict[str, str] = {}
        self._pdf = self._tiff = None
        if "jpeg" in formats:
            (out_dir / "jpeg").mkdir(parents=True, exist_ok=True)
            self.files["jpeg"] = "jpeg"
        if "pdf" in formats:
            import pikepdf

            self._pdf = pikepdf.new()
            self.files["pdf"] = "scan.pdf"
        if "tiff" in formats:
            from PIL import TiffImagePlugin

            self._tiff = TiffImagePlugin.AppendingTiffWriter(str(out_dir / "scan.tif"), True)
            self._tiff.__enter__()
            self.files["tiff"] = "scan.tif"

    def add(self, position: int, gray: np.ndarray, jpeg: bytes) -> list[str]:
        sources = []
        if "jpeg" in self.formats:
            name = f"jpeg/{position + 1:04d}.jpg"
            (self.out_dir / name).write_bytes(jpeg)
            sources.append(f"{name}#0")
        if self._pdf is not None:
            self._add_pdf_page(gray.shape, jpeg)
            sources.append(f"scan.pdf#{position}")
        if self._tiff is not None:
            from PIL import Image

            # Bilevel as a scanner's "black and white" mode makes it: a fixed threshold.
            image = Image.fromarray(gray > 150)
            image.save(self._tiff, compression="group4", dpi=(self.dpi, self.dpi))
            self._tiff.newFrame()
            sources.append(f"scan.tif#{position}")
        return sources

    def _add_pdf_page(self, shape: tuple[int, ...], jpeg: bytes) -> None:
        """One page per JPEG, embedded as it is (DCTDecode), as scanner software does."""
        import pikepdf

        height, width = shape[:2]
        pdf = self._pdf
        image = pikepdf.Stream(pdf, jpeg)
        image.Type = pikepdf.Name.XObject
        image.Subtype = pikepdf.Name.Image
        image.Width, image.Height = width, height
        image.ColorSpace = pikepdf.Name.DeviceGray
        image.BitsPerComponent = 8
        image.Filter = pikepdf.Name.DCTDecode
        w_pt, h_pt = width * 72 / self.dpi, height * 72 / self.dpi
        page = pdf.add_blank_page(page_size=(w_pt, h_pt))
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        page.Contents = pdf.make_stream(f"q {w_pt:.4f} 0 0 {h_pt:.4f} 0 0 cm /Im0 Do Q".encode())

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.save(self.out_dir / "scan.pdf")
        if self._tiff is not None:
            self._tiff.__exit__(None, None, None)


# ---------------------------------------------------------------- the session


def _render_page(pdf: pdfium.PdfDocument, index: int, dpi: int) -> np.ndarray:
    image = pdf[index].render(scale=dpi / 72, grayscale=True).to_numpy()
    return np.ascontiguousarray(image[..., 0] if image.ndim == 3 else image)


def _render(pdf_path: Path, dpi: int) -> list[np.ndarray]:
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        return [_render_page(pdf, index, dpi) for index in range(len(pdf))]
    finally:
        pdf.close()


def _fit(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """pdfium rounds page sizes up by a pixel: bring every page to the model's size."""
    h, w = shape
    out = np.full(shape, 255, np.uint8)
    out[: min(h, img.shape[0]), : min(w, img.shape[1])] = img[:h, :w]
    return out


def _labels(
    paper: str, lines: list[RollLine], model: CopyModel, dpi: int, work: Path
) -> dict[str, np.ndarray]:
    if not lines:
        return {}
    path = work / f"labels-{paper}.pdf"
    labels_pdf(paper, lines, path, model=model)
    sheets = _render(path, dpi)
    ppm = dpi / 25.4
    crops = {}
    for index, line in enumerate(lines):
        x, y, w, h = model.label_sheet.label_box(index)
        sheet = sheets[index // model.label_sheet.per_sheet]
        crops[line.candidate] = sheet[
            round(y * ppm) : round((y + h) * ppm), round(x * ppm) : round((x + w) * ppm)
        ].copy()
    return crops


def generate_session(
    out_dir: Path,
    paper: str,
    roll: list[RollLine],
    copies: list[str] | None = None,
    *,
    pages: int = 4,
    dpi: int = 300,
    seed: int = 0,
    defects: DefectPlan | None = None,
    formats: tuple[str, ...] = ("jpeg", "pdf"),
    model: CopyModel | None = None,
    foreign_paper: str | None = None,
    backing: int = BACKING_GRAY,
) -> Truth:
    """Print, fill in and scan one room's copies; write the scans and truth.json in out_dir.

    `copies` are the copy ids of the printed booklets, handed out in roll order (one per
    roll line, absent candidates included); by default they are drawn from the seed.
    """
    model = model or load_model()
    defects = defects or DefectPlan.none()
    check_paper_format(paper)
    if dpi not in (150, 200, 240, 300, 400, 600):
        raise UserError(f"--dpi {dpi} is not a scanner resolution: use 200 or 300")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"unknown scan format {', '.join(unknown) or '(none)'}: use jpeg, pdf or tiff")
    if not roll:
        raise UserError("the roll lists no candidate: there is nothing to scan")
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    if copies is None:
        copies = [new_copy_id(rng) for _ in roll]  # type: ignore[arg-type]
    if len(copies) < len(roll):
        raise UserError(f"{len(copies)} booklets for {len(roll)} candidates: print more booklets")
    foreign_paper = foreign_paper or ("AUTRE" if paper != "AUTRE" else "AUTRE2")
    plan_copies, sheets, marks = _plan(paper, roll, list(copies), pages, defects, rng, foreign_paper)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    artist = _Artist(model, dpi, rng, np_rng, backing=backing)
    scan_rng = random.Random(f"{seed}/scan")
    shape = artist.page_shape
    with tempfile.TemporaryDirectory(prefix="massicot-print-") as tmp:
        work = Path(tmp)
        # Booklet pages are rendered when scanned, not all at once: 300 dpi pages weigh 9 MB each.
        printed: dict[str, pdfium.PdfDocument] = {}
        label_images: dict[str, np.ndarray] = {}
        for code in dict.fromkeys(c.paper for c in plan_copies):
            mine = [c for c in plan_copies if c.paper == code]
            booklet_pdf(code, [c.copy_id for c in mine], pages, work / f"booklets-{code}.pdf", model=model)
            printed[code] = pdfium.PdfDocument(work / f"booklets-{code}.pdf")
            label_images.update(_labels(code, [c.line for c in mine if c.label != "none"], model, dpi, work))

        writers = _Writers(out_dir, tuple(formats), dpi)
        truth_pages: list[TruthPage] = []
        per_booklet = pdf_pages_per_booklet(pages)
        try:
            for position, sheet in enumerate(sheets):
                c = sheet.copy
                written = False
                # What is on the sheet depends on the sheet alone: scanned twice, it shows the same
                # writing and the same label; only the scan (paper grain, skew) differs.
                artist.rng = random.Random(f"{seed}/{c.copy_id if c else '-'}/{sheet.page}/{sheet.kind}")
                if sheet.kind == "blank":
                    img = np.full(shape, 255, np.uint8)
                elif sheet.kind == "annex":
                    img = artist.annex(c.ink if c else 40)
                    written = True
                else:
                    assert c is not None and sheet.page is not None
                    index = c.booklet_index * per_booklet + sheet.page - 1
                    img = _fit(_render_page(printed[c.paper], index, dpi), shape)
                    if sheet.page == 1:
                        if c.status != "absent":
                            artist.identity(img, c.line.name, c.birth_date, c.ink)
                        if marks[c.copy_id].get("header_ink"):
                            artist.header_scrawl(img, c.ink)
                        if c.label != "none":
                            artist.paste_label(img, label_images[c.line.candidate], torn=c.label == "torn")
                        if c.status == "absent":
                            artist.absent(img)
                    if c.status in ("present", "foreign"):
                        area = model.answer_first if sheet.page == 1 else model.answer
                        artist.handwriting(img, area, c.ink)
                        written = True
                artist.rng = scan_rng
                scanned = artist.scan(img, sheet.rotation, sheet.skew)
                jpeg = encode_jpeg(scanned, dpi)
                sources = writers.add(position, scanned, jpeg)
                truth_pages.append(
                    TruthPage(
                        position=position,
                        sources=sources,
                        copy_id=c.copy_id if c else None,
                        paper=c.paper if c and sheet.kind == "booklet" else None,
                        page=sheet.page,
                        rotation=sheet.rotation,
                        skew=sheet.skew,
                        blank=sheet.kind == "blank",
                        written=written,
                        defect=sheet.defect,
                    )
                )
        finally:
            writers.close()
            for pdf in printed.values():
                pdf.close()

    truth = Truth(
        paper=paper,
        dpi=dpi,
        seed=seed,
        formats=list(formats),
        pages=truth_pages,
        copies=[_truth_copy(c, marks[c.copy_id], pages) for c in plan_copies],
        defects_requested=asdict(defects),
        files=writers.files,
    )
    (out_dir / "truth.json").write_text(truth.to_json(), encoding="utf-8")
    return truth


def _truth_copy(c: _Copy, mark: dict, pages: int) -> TruthCopy:
    defects = list(mark["defects"])
    if c.status == "foreign":
        defects.append("foreign_copy")
    return TruthCopy(
        copy_id=c.copy_id,
        paper=c.paper,
        candidate=c.line.candidate,
        label_registration=c.line.candidate if c.label == "ok" else None,
        label=c.label,
        expected_status=c.status,
        pages=pages,
        missing_pages=list(range(1, pages + 1))
        if mark.get("missing_copy")
        else ([mark["missing"]] if "missing" in mark else []),
        duplicated_pages=sorted(
            ([mark["duplicate"]] if "duplicate" in mark else [])
            + (list(range(1, pages + 1)) if mark.get("duplicate_copy") else [])
        ),
        annex_after_page=mark.get("annex_after"),
        defects=defects,
    )
