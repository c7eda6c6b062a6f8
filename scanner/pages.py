"""Per-page analysis: codes, orientation, skew, blank detection, identity label.

Takes a SourcePage, returns a PageAnalysis (plain data) and the corrector-facing
image. No disk, no network.

Only page 1 gets a pixel change (its identity header masked). Every other page is
handed on as the scanner's bytes: rotation and skew are metadata the viewer applies,
which saves a full decode, a warp and a re-encode per page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from paper.copy_model import Box, CopyModel
from scanner.codes import FoundCode, read_codes, read_page_codes
from scanner.coefficients import CoefficientError
from scanner.dct import CoefficientImage, natural_order
from scanner.decoding import (
    PageImage,
    UndecodableImage,
    decode_for_analysis,
    jpeg_header,
    page_dpi,
    reduction_for,
    too_large,
)
from scanner.masking import (
    HEADER_MARGIN_MM,
    MaskingError,
    box_polygon,
    header_polygon,
    lossless_available,
    mask_image,
    mask_jpeg_after,
)
from scanner.placement import (
    PAGE_CORNERS,
    assumed_placement,
    fit_placement,
    rotate_quadrant,
    rotation_and_skew,
)
from scanner.sources import SourcePage


@dataclass(frozen=True)
class PageAnalysis:
    source: str  # "FILE#INDEX"
    paper: str | None  # paper code read from the page codes, None when no code was read
    copy_id: str | None
    number: int | None  # page number within the copy
    rotation: int  # 0, 90, 180 or 270: clockwise rotation that makes the page upright
    # Then this many degrees clockwise (small, ±) straightens it: positive when the content leans
    # anticlockwise in the upright page. The server's viewer (correction_server.page_images)
    # applies it with this sign.
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
    # Upright page mm → full-resolution image pixels (2×3 affine, row-major), fitted on the
    # codes' corners; None when no code was read. The mask is placed with it.
    placement: tuple[float, ...] | None = None
    dpi: float | None = None  # full-resolution dots per inch (from the file, else from an A4 size)
    codes_rejected: int = 0  # symbols read that are not valid page codes (not ours, bad check char)
    label_paper: str | None = None  # paper code on the label (page 1), to compare with the page's
    ink_ratio: float = 0.0  # share of inked cells on the ⅛ image: what the blank decision saw
    # Handwriting in the page's answer zone (mm² of pen strokes, printed rules left out) and the
    # verdict drawn from it; None when not measured (no code read, so the zone is not placed).
    writing_mm2: float | None = None
    written: bool | None = None
    # Page 1: something written in the identity boxes (a name, ABSENT). A booklet with neither a
    # label nor a name is read as another booklet's continuation (copie supplémentaire).
    identity_written: bool | None = None
    # A printed insert sheet (intercalaire: graph paper, answer sheet): its kind and its own id.
    insert: str | None = None
    insert_id: str | None = None


@dataclass(frozen=True)
class ProcessedPage:
    analysis: PageAnalysis
    image: bytes | None  # corrector-facing image (page 1 masked); None: not for correctors yet
    media_type: str
    # Set when the image itself cannot be decoded: the page goes to `unassigned` with this reason.
    unreadable: str | None = None


# ---------------------------------------------------------------- thresholds (measured on drawn pages)

# Blank: on a ⅛ image (≈37 dpi at 300 dpi) pen strokes stay ≥ 40 grey levels under the
# paper, printed light rules and paper noise stay within ~20.
INK_CONTRAST = 40
BLANK_MAX_INK_CELLS = 12
BLANK_MARGIN_MM = 12.0  # feeder shadows and punched holes live near the sheet's edges
BACKING_SLACK = 0.02  # share of the image: the sheet's blurred edges, a sheet a little off A4
HEADER_GRID_PX_PER_MM = 4.0
HEADER_INK_CONTRAST = 70
HEADER_INK_MIN_PX = 60  # at 4 px/mm: a short handwritten word is several hundred
LABEL_INK_MIN_PX = 150
# Codes sit 7–22 mm from the sheet's edges; a 5° skew moves a corner code by up to 13 mm more.
WIDE_CORNER_ZONE_MM = 62.0
# Writing in the answer zone, on the same ⅛ image: the printed rules (gray 0.78, 0.14 mm) and the
# margin line (gray 0.6) stay within ~20 grey levels of the paper there, so the blank test's
# contrast leaves them out with no knowledge of the layout. The zone is taken a little inside
# its printed edge (the header frame and the codes' quiet zones are near it).
WRITING_INSET_MM = 1.5
# Measured on the sample generator's pages (tests/pages/test_pages_writing.py prints the
# figures): unwritten zones measure 0 mm² at 200 and 300 dpi whatever the skew and backing, the
# least written page over 2,000 mm²; one short word ("oui", 4.5 mm high) is well above 6 mm².
WRITING_MIN_MM2 = 6.0
# Faint pencil: a thin (0.15 mm) light stroke fades into the paper at ⅛ (one pixel is ~1 mm at
# 200 dpi). A zone measured empty there is looked at again upright at FAINT_GRID_PX_PER_MM, where
# the printed rules and the margin line would reach the contrast: their bands (known from the
# copy model) are left out. Only pages found empty pay for it (a blank copy's, an ABSENT one's).
FAINT_GRID_PX_PER_MM = 6.0
FAINT_CONTRAST = 22
FAINT_RULE_BAND_MM = 1.1
FAINT_MIN_MM2 = 1.5


def _scaled(placement: np.ndarray, factor: float) -> np.ndarray:
    return placement * factor


# ---------------------------------------------------------------- codes


@dataclass
class _CodeVerdict:
    paper: str | None = None
    copy_id: str | None = None
    number: int | None = None
    agreeing: list[FoundCode] = field(default_factory=list)
    disagree: bool = False
    rejected: int = 0
    notes: list[str] = field(default_factory=list)
    insert: str | None = None  # the codes are an insert sheet's: its kind


def find_page_codes(img: PageImage, model: CopyModel, *, has_ink: bool) -> list[FoundCode]:
    """Corner zones first (≈1 ms; at FIRST_LOOK_DPI before that where it is cheap); wider zones
    when a strongly skewed or shifted sheet moved the codes out of them; the whole page last, only
    for a page with ink on it (an annex, or codes far from where they should be). A blank verso
    costs the first step only."""
    coarse = img.coarser()
    if coarse is not None:
        found = read_page_codes(coarse, coarse.pixels_per_mm, model)
        if sum(c.page_code is not None for c in found) >= 2:
            return [code.scaled(coarse.factor / img.factor) for code in found]
    ppm = img.pixels_per_mm
    found = read_page_codes(img, ppm, model)
    if sum(c.page_code is not None for c in found) >= 2:
        return found
    wider = read_page_codes(img, ppm, model, zone_mm=WIDE_CORNER_ZONE_MM)
    if len(wider) > len(found):
        found = wider
    if not found and has_ink:
        found = read_codes(img.gray)
    return found


def judge_codes(found: list[FoundCode], shape: tuple[int, int]) -> _CodeVerdict:
    verdict = _CodeVerdict()
    page_codes = [c for c in found if c.page_code is not None]
    for code in found:
        if code.error:
            verdict.rejected += 1
            verdict.notes.append(code.error)
    if not page_codes:
        return verdict
    identities = Counter((c.page_code.paper, c.page_code.copy_id, c.page_code.page) for c in page_codes)
    corners = Counter(c.page_code.corner for c in page_codes)
    height, width = shape[:2]
    rotations = set()
    for code in page_codes:
        cx, cy = code.centre
        seen = (int(cx >= width / 2), int(cy >= height / 2))
        fits = {
            r for r in (0, 90, 180, 270) if rotate_quadrant(PAGE_CORNERS[code.page_code.corner], r) == seen
        }
        rotations.add(frozenset(fits))
    if len(identities) > 1:
        verdict.disagree = True
        verdict.notes.append(
            "the corner codes name different pages: "
            + ", ".join(f"{p}/{c}/page {n}" for p, c, n in identities)
        )
    if max(corners.values()) > 1 or len(rotations) > 1:
        verdict.disagree = True
        verdict.notes.append(
            "the corner codes are not where the page's corners are (a pasted or mixed page?)"
        )
    if verdict.disagree:
        return verdict
    verdict.paper, verdict.copy_id, verdict.number = next(iter(identities))
    verdict.insert = page_codes[0].page_code.insert
    verdict.agreeing = page_codes
    return verdict


# ---------------------------------------------------------------- ink


def _background(gray: np.ndarray) -> float:
    """The paper's gray: the 90th percentile of a sample (a histogram: ten times np.percentile's speed)."""
    sample = gray[::4, ::4]
    counts = np.bincount(sample.ravel(), minlength=256)
    return float(np.searchsorted(np.cumsum(counts), 0.9 * sample.size))


def _backing(dark: np.ndarray, sheet_px: float) -> np.ndarray | None:
    """The dark regions touching the image's border: a gray or black scanner backing seen around
    a skewed or short sheet. None when nothing dark touches the border (a white backing), or when
    there is more of it than the image leaves around a sheet of `sheet_px` pixels: then it is
    the page's own content (a dark page, a test pattern), not the backing."""
    if not (dark[0].any() or dark[-1].any() or dark[:, 0].any() or dark[:, -1].any()):
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark.view(np.uint8), connectivity=8)
    height, width = dark.shape
    x, y, w, h, area = (stats[:, i] for i in range(5))
    touches = (x == 0) | (y == 0) | (x + w == width) | (y + h == height)
    touches[0] = False  # label 0: everything that is not dark
    around = max(0.0, height * width - sheet_px)
    # room for the blurred band along the sheet's edges, and a sheet a little off its size
    if area[touches].sum() > 1.25 * around + BACKING_SLACK * height * width:
        return None
    return touches[labels]


def ink_cells(
    small: np.ndarray, dpi_small: float, sheet_mm: tuple[float, float], margin_mm: float = BLANK_MARGIN_MM
) -> int:
    """Dark cells on the sheet, away from its edges, on a ⅛ image.

    The sheet is found first: around a skewed sheet the scanner shows its backing, and a gray
    or black one would count as ink. Dark regions touching the image's border are that
    backing (as much of it as the image leaves around a sheet of the model's size); the margin
    is then kept from the sheet's edges as well as from the image's."""
    margin = int(margin_mm * dpi_small / 25.4)
    height, width = small.shape[:2]
    if height <= 2 * margin or width <= 2 * margin:
        return 0
    paper = _background(small[margin : height - margin, margin : width - margin])
    dark = small < paper - INK_CONTRAST
    sheet_px = sheet_mm[0] * sheet_mm[1] * (dpi_small / 25.4) ** 2
    backing = _backing(dark, sheet_px)
    if backing is not None:
        sheet = np.logical_not(backing).view(np.uint8)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1))
        dark &= cv2.erode(sheet, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=1).view(bool)
    return int(np.count_nonzero(dark[margin : height - margin, margin : width - margin]))


def answer_writing(small: np.ndarray, placement: np.ndarray, box: Box, pixels_per_mm: float) -> float:
    """Pen strokes in an answer zone, in mm², on a ⅛ image placed by `placement` (mm → its pixels).

    What is printed there (rules, margin line) is too light and thin to reach the ink contrast
    at this scale; codes, title line and header frame lie outside the zone."""
    poly = box_polygon(placement, box, margin_mm=-WRITING_INSET_MM)
    height, width = small.shape[:2]
    x0, y0 = (max(0, int(v)) for v in poly.min(axis=0))
    x1, y1 = int(min(width, poly[:, 0].max() + 1)), int(min(height, poly[:, 1].max() + 1))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    zone = small[y0:y1, x0:x1]
    inside = np.zeros(zone.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(poly - (x0, y0)).astype(np.int32)], 1)
    ink = (zone < _background(zone) - INK_CONTRAST).view(np.uint8)
    return round(cv2.countNonZero(ink & inside) / pixels_per_mm**2, 1)


def faint_writing(img: PageImage, placement: np.ndarray, box: Box, model: CopyModel) -> float:
    """Strokes in an answer zone measured empty at ⅛, in mm², looked for at a finer scale.

    The zone is straightened onto an upright grid (as the header is) from the analysis image, the
    printed rules and margin line left out by position, and specks smaller than a stroke dropped."""
    x, y, w, h = box
    inset = WRITING_INSET_MM + 0.5
    box = (x + inset, y + inset, w - 2 * inset, h - 2 * inset)
    grid = zone_grid(img, placement, box, FAINT_GRID_PX_PER_MM)
    s = FAINT_GRID_PX_PER_MM
    ink = grid < _background(grid) - FAINT_CONTRAST
    settings = model.extra.get("print", {})
    pitch = float(settings.get("rule_pitch_mm", 8))
    band = int(FAINT_RULE_BAND_MM * s) + 1
    rule = y + pitch
    while rule <= y + h + 0.01:
        row = int(round((rule - box[1]) * s))
        ink[max(0, row - band) : max(0, row + band + 1), :] = False
        rule += pitch
    column = int(round((x + float(settings.get("margin_line_mm", 20)) - box[0]) * s))
    ink[:, max(0, column - band) : max(0, column + band + 1)] = False
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
    strokes = stats[1:, cv2.CC_STAT_AREA]
    # a speck of dust or a JPEG ringing dot is a few pixels; a stroke of a letter is more
    return round(float(strokes[strokes >= int(0.6 * s)].sum()) / s**2, 1)


def zone_grid(img: PageImage, placement_small: np.ndarray, box: Box, px_per_mm: float) -> np.ndarray:
    """A model box straightened onto an upright grid of `px_per_mm`, read from its part of the image."""
    bx, by, bw, bh = box
    poly = box_polygon(placement_small, box)
    x0, y0 = (int(v) - 2 for v in poly.min(axis=0))
    x1, y1 = (int(v) + 3 for v in poly.max(axis=0))
    zone = img.crop(x0, y0, x1, y1)
    x0, y0 = max(0, x0), max(0, y0)
    to_mm = np.array([[1 / px_per_mm, 0, bx], [0, 1 / px_per_mm, by], [0, 0, 1]])
    m = placement_small @ to_mm - np.array([[0, 0, x0], [0, 0, y0]])
    size = (int(bw * px_per_mm), int(bh * px_per_mm))
    if zone.size == 0:
        return np.full((size[1], size[0]), 255, np.uint8)
    return cv2.warpAffine(zone, m, size, flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP, borderValue=255)


def projection_skew(small: np.ndarray) -> float:
    """Skew (clockwise correction, degrees) from the sharpest row profile of a ⅛ image, ±6°."""
    ink = (_background(small) - small.astype(np.float32)).clip(0, None)
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        turned = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        profile = turned.sum(axis=1)
        return float(np.square(np.diff(profile)).sum())

    best = max(np.arange(-6.0, 6.01, 0.5), key=score)
    best = max(np.arange(best - 0.5, best + 0.51, 0.1), key=score)
    # cv2's angle turns the content counter-clockwise: that is a clockwise correction of −angle.
    return round(-float(best), 2)


def header_grid(img: PageImage, placement_small: np.ndarray, model: CopyModel) -> np.ndarray:
    """The header zone straightened onto an upright grid of HEADER_GRID_PX_PER_MM (cheap: small)."""
    hx, hy, hw, hh = model.header
    s = HEADER_GRID_PX_PER_MM
    # Only the header's part of the image is read: its bounding box, a few pixels wider than what
    # the interpolation looks at.
    poly = box_polygon(placement_small, model.header)
    x0, y0 = (int(v) - 2 for v in poly.min(axis=0))
    x1, y1 = (int(v) + 3 for v in poly.max(axis=0))
    zone = img.crop(x0, y0, x1, y1)
    x0, y0 = max(0, x0), max(0, y0)
    # grid (gx, gy) → mm (hx + gx/s, hy + gy/s) → image pixels → the zone's pixels.
    to_mm = np.array([[1 / s, 0, hx], [0, 1 / s, hy], [0, 0, 1]])
    m = placement_small @ to_mm - np.array([[0, 0, x0], [0, 0, y0]])
    size = (int(hw * s), int(hh * s))
    if zone.size == 0:
        return np.full((size[1], size[0]), 255, np.uint8)
    return cv2.warpAffine(zone, m, size, flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP, borderValue=255)


def _grid_box(box: Box, model: CopyModel, grow_mm: float) -> tuple[int, int, int, int]:
    hx, hy, _, _ = model.header
    s = HEADER_GRID_PX_PER_MM
    x, y, w, h = box
    return (
        int((x - hx - grow_mm) * s),
        int((y - hy - grow_mm) * s),
        int((x - hx + w + grow_mm) * s),
        int((y - hy + h + grow_mm) * s),
    )


def header_ink(grid: np.ndarray, model: CopyModel) -> tuple[bool, int]:
    """Ink in the header outside what is printed or written there on purpose.

    Left out: the frame and the header's title (printed), each identity box with its caption
    above it, and the label box (the label itself, crooked or not)."""
    s = HEADER_GRID_PX_PER_MM
    ink = grid < _background(grid) - HEADER_INK_CONTRAST
    keep = np.ones_like(ink)
    band = int(2.0 * s)
    keep[:band, :] = keep[-band:, :] = keep[:, :band] = keep[:, -band:] = False
    keep[: int(5.0 * s), :] = False  # the header's printed title line
    for box in model.identity_boxes.values():
        x, y, w, h = box
        x0, y0, x1, y1 = _grid_box((x, y - 4.0, w, h + 4.0), model, 2.0)
        keep[max(0, y0) : y1, max(0, x0) : x1] = False
    x0, y0, x1, y1 = _grid_box(model.label, model, 3.0)
    keep[max(0, y0) : y1, max(0, x0) : x1] = False
    count = int(np.count_nonzero(ink & keep))
    return count >= HEADER_INK_MIN_PX, count


def identity_ink(grid: np.ndarray, model: CopyModel) -> int:
    """Ink inside the identity boxes, their printed frames left out: a name written there."""
    ink = grid < _background(grid) - HEADER_INK_CONTRAST
    count = 0
    for box in model.identity_boxes.values():
        x0, y0, x1, y1 = _grid_box(box, model, -1.2)
        count += int(np.count_nonzero(ink[max(0, y0) : y1, max(0, x0) : x1]))
    return count


def label_ink(grid: np.ndarray, model: CopyModel) -> int:
    """Ink inside the label box, its frame and printed caption left out: a label stuck there."""
    x0, y0, x1, y1 = _grid_box(model.label, model, -2.5)
    zone = grid[max(0, y0) : y1, max(0, x0) : x1]
    if zone.size == 0:
        return 0
    ink = zone < _background(grid) - HEADER_INK_CONTRAST
    # The caption "stick the label here" runs along the box's middle line.
    s = HEADER_GRID_PX_PER_MM
    mid = zone.shape[0] // 2
    ink[max(0, mid - int(3.5 * s)) : mid + int(3.5 * s), :] = False
    return int(np.count_nonzero(ink))


# ---------------------------------------------------------------- label


def read_label_code(img: PageImage, placement_small: np.ndarray, model: CopyModel) -> list[FoundCode]:
    """Codes in the label box, found through the page's rotation and skew, with room for a crooked label."""
    poly = box_polygon(placement_small, model.label, margin_mm=4.0)
    h, w = img.shape
    x0, y0 = (max(0, int(v)) for v in poly.min(axis=0))
    x1, y1 = int(min(w, poly[:, 0].max() + 1)), int(min(h, poly[:, 1].max() + 1))
    if x1 <= x0 or y1 <= y0:
        return []
    return read_codes(img.crop(x0, y0, x1, y1), offset=(float(x0), float(y0)), try_harder=True)


# ---------------------------------------------------------------- the page


def analyse(page: SourcePage, img: PageImage, model: CopyModel, expected_paper: str | None) -> PageAnalysis:
    small, shrink = img.eighth()
    dpi_small = img.dpi / img.factor / shrink
    cells = ink_cells(small, dpi_small, model.page_mm)
    found = find_page_codes(img, model, has_ink=cells > BLANK_MAX_INK_CELLS)
    verdict = judge_codes(found, img.shape)
    notes = list(verdict.notes)
    ink_ratio = cells / max(1, small.size)
    placement_small = fit_placement(verdict.agreeing, model) if verdict.agreeing else None
    if placement_small is not None:
        rotation, skew = rotation_and_skew(placement_small)
        placement = tuple(float(v) for v in _scaled(placement_small, img.factor).ravel())
    else:
        rotation, skew = 0, projection_skew(small) if cells > BLANK_MAX_INK_CELLS else 0.0
        placement = None
    blank = not found and cells <= BLANK_MAX_INK_CELLS
    writing = written = None
    insert, insert_id = verdict.insert, verdict.copy_id if verdict.insert else None
    if insert:  # an insert sheet names no copy and no page
        verdict.copy_id = verdict.number = None
    if placement_small is not None and insert:
        writing = answer_writing(small, placement_small / shrink, model.insert_answer, dpi_small / 25.4)
        written = writing >= WRITING_MIN_MM2
    elif placement_small is not None and verdict.number is not None:
        zone = model.answer_first if verdict.number == 1 else model.answer
        writing = answer_writing(small, placement_small / shrink, zone, dpi_small / 25.4)
        written = writing >= WRITING_MIN_MM2
        if not written:
            faint = faint_writing(img, placement_small, zone, model)
            written = faint >= FAINT_MIN_MM2
            writing = max(writing, faint)
    if expected_paper and verdict.paper and verdict.paper != expected_paper:
        notes.append(f"this page belongs to paper {verdict.paper}, not {expected_paper}")
    registration = label_paper = None
    label_unreadable = has_header_ink = False
    identity_written = None
    if verdict.number == 1 and placement_small is not None:
        grid = header_grid(img, placement_small, model)  # first: the label lies inside its zone
        identity_written = identity_ink(grid, model) >= HEADER_INK_MIN_PX
        label_codes = read_label_code(img, placement_small, model)
        labels = [c.label_code for c in label_codes if c.label_code is not None]
        has_header_ink, _ = header_ink(grid, model)
        if has_header_ink:
            notes.append(
                "ink in the header outside the identity boxes: check no answer is hidden by the mask"
            )
        if len({(lc.paper, lc.registration) for lc in labels}) == 1:
            registration, label_paper = labels[0].registration, labels[0].paper
            if verdict.paper and label_paper != verdict.paper:
                notes.append(f"the label is for paper {label_paper}, the page for paper {verdict.paper}")
        elif len(labels) > 1:
            label_unreadable = True
            notes.append("two different labels are stuck on this page")
        elif label_ink(grid, model) >= LABEL_INK_MIN_PX:
            label_unreadable = True
            notes.append("a label is there but its code cannot be read (torn or covered?)")
    return PageAnalysis(
        source=page.source,
        paper=verdict.paper,
        copy_id=verdict.copy_id,
        number=verdict.number,
        rotation=rotation,
        skew_degrees=round(skew, 2),
        blank=blank,
        codes_read=len(verdict.agreeing),
        codes_disagree=verdict.disagree,
        label_registration=registration,
        label_unreadable=label_unreadable,
        header_ink=has_header_ink,
        width=img.width,
        height=img.height,
        notes=notes,
        placement=placement,
        dpi=img.dpi,
        codes_rejected=verdict.rejected,
        label_paper=label_paper,
        ink_ratio=round(ink_ratio, 5),
        writing_mm2=writing,
        written=written,
        identity_written=identity_written,
        insert=insert,
        insert_id=insert_id,
    )


def process_page(page: SourcePage, model: CopyModel, expected_paper: str | None = None) -> ProcessedPage:
    """Analyse one page and make its corrector-facing image (masked if it is a page 1).

    A gray or YCbCr JPEG is analysed from one read of its DCT coefficients, which also masks it when
    it is a page 1; any other image, or a JPEG that cannot be read that way (damaged data, even
    part-way), is decoded, and the decoder says what is wrong with it."""
    done = _process_in_one_read(page, model, expected_paper)
    if done is not None:
        return done
    return _process_decoded(page, model, expected_paper)


def _process_in_one_read(
    page: SourcePage, model: CopyModel, expected_paper: str | None
) -> ProcessedPage | None:
    """The page analysed while libjpeg holds its coefficients, before anything is written: a
    page 1 is then masked in the same read (one read instead of a decode and a read), any other
    page leaves it unwritten (the scanner's bytes are its image)."""
    if page.media_type != "image/jpeg" or not lossless_available():
        return None
    header = jpeg_header(page.data)
    if (
        header is None
        or not header.luma_first
        or not header.complete
        or too_large(header.width, header.height)
    ):
        return None  # RGB or CMYK JPEGs, odd or damaged files: decoded
    dpi = page_dpi(header, page.dpi)
    quant = natural_order(header.quant[0])
    outcome: list[PageAnalysis] = []

    def decide(blocks: np.ndarray) -> np.ndarray | None:
        img = CoefficientImage(
            blocks, quant, factor=reduction_for(dpi), width=header.width, height=header.height, dpi=dpi
        )
        try:
            analysis = analyse(page, img, model, expected_paper)
        finally:
            img.close()
        outcome.append(analysis)
        return mask_polygon(analysis, model)

    try:
        masked = mask_jpeg_after(page.data, decide, header)
    except CoefficientError:
        return None
    analysis = outcome[0]
    if analysis.insert and not analysis.codes_disagree:
        image = masked if masked is not None else page.data
        return ProcessedPage(analysis=analysis, image=image, media_type="image/jpeg")
    if analysis.number is None or analysis.codes_disagree:
        return ProcessedPage(analysis=analysis, image=None, media_type=page.media_type)
    if analysis.number != 1:
        return ProcessedPage(analysis=analysis, image=page.data, media_type=page.media_type)
    assert masked is not None  # a page 1 with codes always gets its polygon
    return ProcessedPage(analysis=analysis, image=masked, media_type="image/jpeg")


def _process_decoded(page: SourcePage, model: CopyModel, expected_paper: str | None) -> ProcessedPage:
    try:
        img = decode_for_analysis(page.data, page.media_type, page.dpi)
    except UndecodableImage as exc:
        return ProcessedPage(
            analysis=_unread(page), image=None, media_type=page.media_type, unreadable=str(exc)
        )
    analysis = analyse(page, img, model, expected_paper)
    if analysis.insert and not analysis.codes_disagree:
        polygon = mask_polygon(analysis, model)
        if polygon is None:
            return ProcessedPage(analysis=analysis, image=page.data, media_type=page.media_type)
        try:
            image, media_type = mask_image(page.data, page.media_type, polygon)
        except MaskingError as exc:
            return ProcessedPage(
                analysis=analysis, image=None, media_type=page.media_type, unreadable=str(exc)
            )
        return ProcessedPage(analysis=analysis, image=image, media_type=media_type)
    if analysis.number is None or analysis.codes_disagree:
        return ProcessedPage(analysis=analysis, image=None, media_type=page.media_type)
    try:
        image, media_type = corrector_image(page, analysis, analysis.number, analysis.rotation, model)
    except MaskingError as exc:
        return ProcessedPage(analysis=analysis, image=None, media_type=page.media_type, unreadable=str(exc))
    return ProcessedPage(analysis=analysis, image=image, media_type=media_type)


def mask_polygon(analysis: PageAnalysis, model: CopyModel) -> np.ndarray | None:
    """What must be masked on a coded page: a page 1's identity header, an answer sheet's
    anonymity corner; None for any other page (its image is the scanner's bytes)."""
    if analysis.codes_disagree or analysis.placement is None:
        return None
    placement = np.array(analysis.placement).reshape(2, 3)
    if analysis.insert == "corner":
        return box_polygon(placement, model.insert_corner, margin_mm=HEADER_MARGIN_MM)
    if analysis.number == 1:
        return header_polygon(placement, model)
    return None


def _unread(page: SourcePage) -> PageAnalysis:
    return PageAnalysis(
        source=page.source,
        paper=None,
        copy_id=None,
        number=None,
        rotation=0,
        skew_degrees=0.0,
        blank=False,
        codes_read=0,
        codes_disagree=False,
        label_registration=None,
        label_unreadable=False,
        header_ink=False,
        width=0,
        height=0,
    )


def corrector_image(
    page: SourcePage, analysis: PageAnalysis, number: int, rotation: int, model: CopyModel
) -> tuple[bytes, str]:
    """The image a corrector may see of this page, as page `number` turned by `rotation`.

    Page 1 is masked (its identity header whited out); any other page is the scanner's bytes.
    Used by process_page, and by the lot when an operator assigns a page that had no code:
    then the header is placed from the rotation and the page's size, with a wider margin.
    Raises MaskingError when a page 1 cannot be masked: it must then not reach a corrector.
    """
    if number != 1:
        return page.data, page.media_type
    if analysis.placement is not None and rotation == analysis.rotation:
        placement = np.array(analysis.placement).reshape(2, 3)
        margin = 1.0
    else:
        try:
            img = decode_for_analysis(page.data, page.media_type, page.dpi)
        except UndecodableImage as exc:
            raise MaskingError(str(exc)) from None
        skew = analysis.skew_degrees if analysis.placement is None else 0.0
        placement = assumed_placement(img.width, img.height, img.dpi, rotation, skew, model)
        # The sheet's offset in the scan is unknown without codes: a wider margin covers it.
        margin = 6.0
    polygon = header_polygon(placement, model, margin_mm=margin)
    return mask_image(page.data, page.media_type, polygon)
