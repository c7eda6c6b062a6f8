"""Where the page lies in the scanned image: the placement (upright page mm → image pixels) fitted
on the corner codes, split into a quarter turn and a small skew, or assumed for a page with no
code read."""

from __future__ import annotations

import math

import numpy as np

from paper.copy_model import CopyModel
from scanner.codes import FoundCode

# Each corner's quadrant of the upright page (x, y in {0, 1}).
PAGE_CORNERS = {"TL": (0, 0), "TR": (1, 0), "BL": (0, 1), "BR": (1, 1)}


def rotate_quadrant(quadrant: tuple[int, int], rotation: int) -> tuple[int, int]:
    """Where an upright page's corner (x, y in {0, 1}) lands in an image that needs `rotation`
    degrees clockwise to be upright (i.e. the page was turned that much counter-clockwise)."""
    x, y = quadrant
    for _ in range(rotation // 90):
        x, y = y, 1 - x  # one quarter turn counter-clockwise
    return x, y


def fit_placement(codes: list[FoundCode], model: CopyModel) -> np.ndarray | None:
    """Similarity transform (scale, angle, shift) from upright mm to image pixels, least squares
    on every corner of every code read: codes far apart give the angle to a tenth of a degree."""
    src, dst = [], []
    for code in codes:
        assert code.page_code is not None
        x, y, w, h = model.codes[code.page_code.corner]
        src.extend([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
        dst.extend(code.corners)
    if len(src) < 2:
        return None
    a_rows, b = [], []
    for (u, v), (px, py) in zip(src, dst, strict=True):
        a_rows.append((u, -v, 1.0, 0.0))
        b.append(px)
        a_rows.append((v, u, 0.0, 1.0))
        b.append(py)
    solution, *_ = np.linalg.lstsq(np.array(a_rows), np.array(b), rcond=None)
    a, bb, tx, ty = solution
    return np.array([[a, -bb, tx], [bb, a, ty]])


def rotation_and_skew(placement: np.ndarray) -> tuple[int, float]:
    """Split the page's angle in the image into a quarter turn and a small skew (both clockwise
    corrections)."""
    angle = math.degrees(math.atan2(placement[1, 0], placement[0, 0]))  # page turned clockwise by this
    correction = -angle % 360.0
    rotation = int(round(correction / 90.0)) % 4 * 90
    skew = (correction - rotation + 180.0) % 360.0 - 180.0
    return rotation, skew


def assumed_placement(width: int, height: int, dpi: float, rotation: int, skew: float, model: CopyModel):
    """Where the page would be if the sheet filled the scan: for pages with no code read."""
    ppm = dpi / 25.4
    page_w, page_h = model.page_mm
    angle = -math.radians(rotation + skew)  # the page is turned by minus its correction
    cos, sin = math.cos(angle), math.sin(angle)
    # Centre of the page on the centre of the image.
    cx, cy = page_w / 2, page_h / 2
    m = np.array([[ppm * cos, -ppm * sin, 0.0], [ppm * sin, ppm * cos, 0.0]])
    m[:, 2] = np.array([width / 2, height / 2]) - m[:, :2] @ np.array([cx, cy])
    return m
