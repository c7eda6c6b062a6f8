"""Drawn stand-ins for scanned booklet pages, used by the page tests and the throughput bench.

Pages are drawn straight into a grayscale array from the copy model (corner QR codes,
title line, identity header, a stuck label, handwriting-like strokes, paper noise),
then turned and skewed like a sheet through a document feeder. The sample-scan
generator (testkit.samples) makes richer ones; these stay small and fast so a
test can draw exactly the defect it checks. testkit.scan_files makes JPEG and PDF scans of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import segno

from massicot_core.identifiers import CORNERS, LabelCode, PageCode
from paper.copy_model import Box, CopyModel

PAPER_WHITE = 238
INK = 45


@dataclass(frozen=True)
class DrawnPage:
    paper: str = "U3"
    copy_id: str = "23456789Z"
    number: int = 2
    registration: str | None = None  # page 1: the label's registration number (None: no label)
    label_torn: bool = False  # page 1: the label is there but its code is torn away
    writing: bool = True  # handwriting-like strokes in the answer area
    header_scribble: bool = False  # ink in the header outside the identity boxes
    identity: bool = True  # page 1: a name written in the identity boxes
    codes: bool = True  # False: an annex or a blank verso, no printed code
    dpi: int = 300
    seed: int = 0


def qr_matrix(payload: str) -> np.ndarray:
    qr = segno.make(payload, error="m", micro=False, boost_error=True)
    return np.array([list(row) for row in qr.matrix_iter(scale=1, border=0)], dtype=bool)


def _px(box: Box, ppm: float) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return int(round(x * ppm)), int(round(y * ppm)), int(round((x + w) * ppm)), int(round((y + h) * ppm))


def _paste_code(img: np.ndarray, box: Box, payload: str, ppm: float) -> None:
    matrix = qr_matrix(payload)
    x0, y0, x1, y1 = _px(box, ppm)
    size = min(x1 - x0, y1 - y0)
    cells = cv2.resize(matrix.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    region = img[y0 : y0 + size, x0 : x0 + size]
    region[cells.astype(bool)] = 10


def _text(img: np.ndarray, text: str, x_mm: float, y_mm: float, ppm: float, height_mm: float, ink=INK):
    scale = height_mm * ppm / 22.0
    cv2.putText(
        img,
        text,
        (int(x_mm * ppm), int(y_mm * ppm)),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        int(ink),
        max(1, int(scale * 2)),
        cv2.LINE_AA,
    )


def _scribble(img: np.ndarray, box: Box, ppm: float, rng: np.random.Generator, lines: int, pitch_mm=8.0):
    """Handwriting-like strokes: a wobbly pen line per ruled line, words separated by gaps."""
    x, y, w, h = box
    thickness = max(1, int(round(0.35 * ppm)))
    for i in range(lines):
        base = y + pitch_mm * (i + 1) - 1.5
        if base > y + h:
            break
        cx = x + 22 + rng.uniform(0, 5)
        end = x + w - rng.uniform(2, 40)
        while cx < end:
            word = rng.uniform(6, 25)
            n = max(4, int(word * 1.5))
            xs = np.linspace(cx, min(cx + word, end), n)
            ys = base - np.abs(rng.normal(0, 1.6, n)) - rng.uniform(0, 1.0)
            pts = np.stack([xs * ppm, ys * ppm], axis=1).astype(np.int32)
            cv2.polylines(img, [pts], False, int(rng.integers(30, 80)), thickness, cv2.LINE_AA)
            cx += word + rng.uniform(2, 5)


def _rules(img: np.ndarray, box: Box, ppm: float, pitch_mm: float = 8.0) -> None:
    x, y, w, h = box
    line = y + pitch_mm
    while line <= y + h:
        cv2.line(img, (int(x * ppm), int(line * ppm)), (int((x + w) * ppm), int(line * ppm)), 199, 1)
        line += pitch_mm
    cv2.line(img, (int((x + 20) * ppm), int(y * ppm)), (int((x + 20) * ppm), int((y + h) * ppm)), 153, 1)


def _rect(img: np.ndarray, box: Box, ppm: float, gray: int, thickness: int = 2) -> None:
    x0, y0, x1, y1 = _px(box, ppm)
    cv2.rectangle(img, (x0, y0), (x1, y1), gray, thickness)


def draw_upright(spec: DrawnPage, model: CopyModel) -> np.ndarray:
    """The page as printed and filled in, upright, before the scanner sees it."""
    ppm = spec.dpi / 25.4
    rng = np.random.default_rng(spec.seed)
    width, height = (int(round(v * ppm)) for v in model.page_mm)
    img = np.full((height, width), 255, np.uint8)
    if spec.codes:
        for corner in CORNERS:
            _paste_code(
                img,
                model.codes[corner],
                PageCode(spec.paper, spec.copy_id, spec.number, corner).payload(),
                ppm,
            )
        tx, ty, tw, th = model.title_line
        _text(
            img,
            f"Epreuve {spec.paper} - page {spec.number}/4 - copie {spec.copy_id}",
            tx + 8,
            ty + th - 2,
            ppm,
            4.0,
            0,
        )
    first = spec.number == 1 and spec.codes
    if first:
        _rect(img, model.header, ppm, 0, 2)
        hx, hy, _, _ = model.header
        _text(img, "Cadre reserve a l'identite du candidat", hx + 2, hy + 3.2, ppm, 2.2, 90)
        for name, box in model.identity_boxes.items():
            _rect(img, box, ppm, 0, 1)
            _text(img, name, box[0], box[1] - 0.8, ppm, 2.0, 0)
        _rect(img, model.label, ppm, 115, 1)
        lx, ly, lw, lh = model.label
        _text(img, "coller l'etiquette ici", lx + 15, ly + lh / 2, ppm, 3.0, 0)
        if spec.identity:
            for box in model.identity_boxes.values():
                bx, by, bw, bh = box
                _text(img, "DUPONT MARIE", bx + 3, by + bh - 2.5, ppm, 5.5, 40)
        if spec.registration is not None:
            _draw_label(img, spec, model, ppm, rng)
        if spec.header_scribble:
            # An answer started in the header: below the identity boxes, left of the label.
            _scribble(img, (hx + 44, hy + 38, 66, 12), ppm, rng, 1, pitch_mm=10)
    if spec.codes or spec.writing:
        _rules(img, model.answer_first if first else model.answer, ppm)
    if spec.writing:
        box = model.answer_first if first else model.answer
        _scribble(img, box, ppm, rng, int(rng.integers(8, 30)))
    return img


def _draw_label(img: np.ndarray, spec: DrawnPage, model: CopyModel, ppm: float, rng) -> None:
    """A label stuck a little crooked inside the label box: white paper, QR code, number."""
    lx, ly, lw, lh = model.label
    label_w, label_h = model.label_sheet.label_mm
    label = np.full((int(label_h * ppm), int(label_w * ppm)), 250, np.uint8)
    payload = LabelCode(spec.paper, spec.registration).payload()
    _paste_code(label, (5, 7.5, 22, 22), payload, ppm)
    _text(label, spec.registration, 31, 12, ppm, 5, 0)
    _text(label, "DUPONT Marie", 31, 21, ppm, 3.5, 0)
    if spec.label_torn:
        # The corner with the code is torn off: the paper under it shows through.
        h, w = label.shape
        poly = np.array([[0, 0], [int(w * 0.45), 0], [int(w * 0.3), h], [0, h]], np.int32)
        cv2.fillPoly(label, [poly], 255)
    angle = float(rng.uniform(-3, 3))
    centre = (label.shape[1] / 2, label.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    turned = cv2.warpAffine(label, matrix, (label.shape[1], label.shape[0]), borderValue=255)
    x0 = int((lx + (lw - label_w) / 2) * ppm)
    y0 = int((ly + (lh - label_h) / 2) * ppm)
    region = img[y0 : y0 + turned.shape[0], x0 : x0 + turned.shape[1]]
    np.minimum(region, turned[: region.shape[0], : region.shape[1]], out=region)


def scan_like(
    upright: np.ndarray, *, rotation: int = 0, skew: float = 0.0, seed: int = 0, overscan_mm: float = 0.0
) -> np.ndarray:
    """What a feeder makes of the sheet: skewed by `skew` degrees (clockwise), fed turned so that
    turning the image `rotation` degrees clockwise makes it upright, on grey paper with noise.

    With `overscan_mm`, the scan area is that much larger than the sheet on every side (the
    feeder's white backing shows around it), so a strongly skewed sheet keeps its corners.
    """
    img = upright
    if overscan_mm:
        pad = int(round(overscan_mm * img.shape[1] / 210.0))
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    if skew:
        h, w = img.shape
        # OpenCV's angle is counter-clockwise: a negative angle turns the content clockwise.
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)
        img = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    turn = {0: None, 90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    if turn[rotation] is not None:
        img = cv2.rotate(img, turn[rotation])
    rng = np.random.default_rng(seed + 1000)
    paper = cv2.LUT(img, _PAPER_LUT)
    # Sensor noise (σ ≈ 1.2 grey levels) from a shared tile at a random offset: drawing fresh
    # noise for 8.7 Mpx costs more than the rest of the page.
    tile = _noise_tile()
    dy, dx = (int(v) for v in rng.integers(0, 256, 2))
    reps = (img.shape[0] // tile.shape[0] + 2, img.shape[1] // tile.shape[1] + 2)
    noise = np.tile(tile, reps)[dy : dy + img.shape[0], dx : dx + img.shape[1]]
    return cv2.subtract(cv2.add(paper, noise), _NOISE_OFFSET)


_PAPER_LUT = (np.arange(256) * (PAPER_WHITE / 255.0)).round().astype(np.uint8)
_NOISE_OFFSET = 8
_tile_cache: list[np.ndarray] = []


def _noise_tile() -> np.ndarray:
    if not _tile_cache:
        rng = np.random.default_rng(12345)
        noise = rng.normal(_NOISE_OFFSET, 1.2, (1024, 1024)).round().clip(0, 2 * _NOISE_OFFSET)
        _tile_cache.append(noise.astype(np.uint8))
    return _tile_cache[0]
