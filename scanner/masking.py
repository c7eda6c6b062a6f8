"""Masking the identity header of page 1 before any corrector-facing image exists.

The zone is the copy model's header box, placed on the scan through the page's
rotation and skew, widened to whole 8×8 blocks. For JPEG scans the blocks are
turned white in the DCT domain (libjpeg-turbo's lossless transform with a
coefficient filter): every other block keeps its exact coefficients, so the page
outside the mask is pixel-identical and nothing is re-compressed. Other images
are masked in pixels and written as PNG (lossless).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from paper.copy_model import Box, CopyModel
from scanner import coefficients
from scanner.coefficients import CoefficientError, PlaneLayout, row_blocks
from scanner.decoding import ImageHeader, jpeg_header

# The header's printed frame sits on the box edge: cover it too.
HEADER_MARGIN_MM = 1.0
BLOCK = 8


class MaskingError(RuntimeError):
    """The image could not be masked: it must not reach a corrector."""


Placement = Sequence[float]  # 2×3 affine matrix, row-major: upright page mm → full-resolution pixels


def box_polygon(placement: Placement, box: Box, margin_mm: float = 0.0) -> np.ndarray:
    """The four corners (pixels, float) of a model box grown by `margin_mm` on every side."""
    x, y, w, h = box
    x, y, w, h = x - margin_mm, y - margin_mm, w + 2 * margin_mm, h + 2 * margin_mm
    m = np.asarray(placement, dtype=np.float64).reshape(2, 3)
    pts = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], dtype=np.float64)
    return pts @ m.T


def header_polygon(placement: Placement, model: CopyModel, margin_mm: float = HEADER_MARGIN_MM) -> np.ndarray:
    return box_polygon(placement, model.header, margin_mm)


def block_grid(polygon: np.ndarray, width: int, height: int, scale_x: float = 1.0, scale_y: float = 1.0):
    """Which 8×8 blocks of a plane (of the given size in pixels) the polygon touches, even partly."""
    cols, rows = math.ceil(width * scale_x / BLOCK), math.ceil(height * scale_y / BLOCK)
    grid = np.zeros((rows, cols), np.uint8)
    pts = polygon * np.array([scale_x, scale_y]) / BLOCK
    # Sub-block precision for fillPoly, then one block of growth so partly covered blocks count.
    shift = 4
    cv2.fillPoly(grid, [np.round(pts * (1 << shift)).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=shift)
    grid = cv2.dilate(grid, np.ones((3, 3), np.uint8))
    return grid.astype(bool)


def pixel_mask(polygon: np.ndarray, width: int, height: int) -> np.ndarray:
    """The block grid blown back up to pixels: exactly the pixels the JPEG path turns white."""
    grid = block_grid(polygon, width, height)
    full = np.repeat(np.repeat(grid, BLOCK, axis=0), BLOCK, axis=1)
    return full[:height, :width]


# ---------------------------------------------------------------- JPEG, lossless


def _white_dc(header: ImageHeader, component: int) -> int:
    """Quantised DC coefficient of a white block: luma 255 (rounded up so it clamps to 255), chroma
    neutral. DC = 8 × (value − 128) before quantisation."""
    if component > 0:
        return 0
    q = max(1, header.dc_quant[0])
    return min(2047 // q, math.ceil(8 * 127 / q))


def _row_runs(grid: np.ndarray) -> dict[int, list[tuple[int, int]]]:
    """Block row → the runs (first block, last block + 1) of the zone in that row."""
    rows = np.flatnonzero(grid.any(axis=1))
    sub = grid[rows]
    first = sub.argmax(axis=1)
    end = sub.shape[1] - sub[:, ::-1].argmax(axis=1)
    whole = np.count_nonzero(sub, axis=1) == end - first
    runs = {}
    for row, a, b, one in zip(rows.tolist(), first.tolist(), end.tolist(), whole.tolist(), strict=True):
        if one:
            runs[row] = [(a, b)]
        else:  # not met with a convex zone; kept exact all the same
            edges = np.flatnonzero(np.diff(np.concatenate(([0], grid[row].astype(np.int8), [0]))))
            runs[row] = [(int(x), int(y)) for x, y in zip(edges[::2], edges[1::2], strict=True)]
    return runs


class _Whitener:
    """Whitens, block row by block row, every block the polygon touches (a RowVisitor)."""

    def __init__(self, header: ImageHeader, polygon: np.ndarray):
        h_max = max(h for h, _ in header.sampling)
        v_max = max(v for _, v in header.sampling)
        grids = [
            block_grid(polygon, header.width, header.height, h / h_max, v / v_max) for h, v in header.sampling
        ]
        self.whites = [_white_dc(header, c) for c in range(header.components)]
        # Per component, the runs of blocks to whiten in each block row (one run: the zone is
        # convex); the filter is called once per block row (~440 times for a 300 dpi page) and
        # returns at once for the rows outside the zone.
        self.runs = [_row_runs(grid) for grid in grids]

    def _whiten_row(self, component: int, row: np.ndarray, runs: list[tuple[int, int]]) -> None:
        """One block row (columns, 8, 8): its blocks in the runs become white."""
        for c0, c1 in runs:
            row[c0:c1] = 0
            row[c0:c1, 0, 0] = self.whites[component]

    def whiten(self, component: int, index: int, address: int, columns: int) -> None:
        runs = self.runs[component].get(index)
        if runs:
            self._whiten_row(component, row_blocks(address, columns), runs)

    def whiten_plane(self, component: int, blocks: np.ndarray) -> None:
        """The same, on a whole plane (rows, columns, 8, 8) at once."""
        for index, runs in self.runs[component].items():
            if index < blocks.shape[0]:
                self._whiten_row(component, blocks[index], runs)

    def row(self, component: int, index: int, address: int, columns: int, rows: int) -> bool:
        self.whiten(component, index, address, columns)
        return True


class _DecideThenWhiten:
    """Shows `decide` the luma plane as soon as its layout is known (its second row), then
    whitens the polygon `decide` returned, or stops there when there is none (a RowVisitor)."""

    def __init__(self, header: ImageHeader, decide: Callable[[np.ndarray], np.ndarray | None]):
        self.header, self.decide = header, decide
        self.layout: PlaneLayout | None = None
        self.whitener: _Whitener | None = None

    def row(self, component: int, index: int, address: int, columns: int, rows: int) -> bool:
        if self.whitener is not None:  # after the decision: called ~440 times a page, kept lean
            if component != 0:
                self.whitener.whiten(component, index, address, columns)
            return True
        if component != 0:
            raise CoefficientError("libjpeg showed a colour plane before the luma plane")
        if self.layout is None:
            self.layout = PlaneLayout(columns, rows)
        self.layout.see(index, address)
        if not self.layout.ready:
            return True
        polygon = self.decide(self.layout.plane())
        if polygon is None:
            return False  # nothing to write
        self.whitener = _Whitener(self.header, polygon)
        # The whole luma zone at once, rows already passed included: nothing is written yet.
        self.whitener.whiten_plane(0, self.layout.plane(writeable=True))
        return True


def lossless_available() -> bool:
    return coefficients.available()


def mask_jpeg_lossless(data: bytes, polygon: np.ndarray) -> bytes:
    """White out, in the DCT domain, every block the polygon touches; all other blocks unchanged."""
    header = jpeg_header(data)
    if not lossless_available() or header is None:
        raise MaskingError("the JPEG cannot be masked losslessly here")
    try:
        masked = coefficients.transform(data, _Whitener(header, polygon), stop_on_warning=False)
    except CoefficientError as exc:
        raise MaskingError(f"the JPEG could not be masked: {exc}") from None
    assert masked is not None  # a whitener never stops the transform
    return masked


def mask_jpeg_after(
    data: bytes, decide: Callable[[np.ndarray], np.ndarray | None], header: ImageHeader | None = None
) -> bytes | None:
    """One read of a JPEG's coefficients for both the analysis and the mask.

    `decide` sees the luma plane (rows, columns, 8, 8 of quantised int16 coefficients, readable
    only during the call) and returns the polygon to white out, or None: then the read stops
    and nothing is written (None). Raises CoefficientError when the JPEG cannot be read or
    written this way (damaged data, even part-way, or a library that lays planes out otherwise).
    `header`: the JPEG's, when the caller has read it already."""
    header = header or jpeg_header(data)
    if header is None or not header.sampling:
        raise CoefficientError("the JPEG's header cannot be read")
    if not coefficients.planes_are_whole():
        raise CoefficientError("this libjpeg does not keep a plane's rows together")
    return coefficients.transform(data, _DecideThenWhiten(header, decide))


# ---------------------------------------------------------------- pixels


def mask_jpeg_reencode(data: bytes, polygon: np.ndarray, quality: int = 85) -> bytes:
    """Decode, paint the same blocks white, re-encode: lossy everywhere, the measured alternative."""
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if gray is None:
        raise MaskingError("the JPEG cannot be decoded for masking")
    mask = pixel_mask(polygon, gray.shape[1], gray.shape[0])
    gray[mask] = 255
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MaskingError("the masked JPEG could not be encoded")
    return buf.tobytes()


def mask_png(data: bytes, polygon: np.ndarray) -> bytes:
    """Any image Pillow/OpenCV reads → the same pixels with the zone white, as PNG."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise MaskingError("the image cannot be decoded for masking")
    mask = pixel_mask(polygon, image.shape[1], image.shape[0])
    white = np.iinfo(image.dtype).max
    image[mask] = white
    bilevel = image.ndim == 2 and np.isin(image, (0, white)).all()
    params = [cv2.IMWRITE_PNG_COMPRESSION, 6 if bilevel else 1]
    if bilevel and image.dtype == np.uint8:
        params += [cv2.IMWRITE_PNG_BILEVEL, 1]
    ok, buf = cv2.imencode(".png", image, params)
    if not ok:
        raise MaskingError("the masked image could not be encoded")
    return buf.tobytes()


def mask_image(data: bytes, media_type: str, polygon: np.ndarray) -> tuple[bytes, str]:
    """The corrector-facing image of a page 1: (bytes, media type)."""
    if media_type == "image/jpeg":
        if lossless_available():
            try:
                return mask_jpeg_lossless(data, polygon), "image/jpeg"
            except MaskingError:
                pass  # e.g. an arithmetic-coded JPEG: fall back to pixels
        return mask_png(data, polygon), "image/png"
    return mask_png(data, polygon), "image/png"
