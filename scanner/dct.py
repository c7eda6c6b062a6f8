"""A JPEG page seen through its DCT coefficients: the analysis image without a decode.

Each 8×8 block's DC coefficient is the block's mean, so the DC coefficients alone are the page
at ⅛. Keeping a block's n×n lowest coefficients and averaging the 8-point basis over n equal
runs of pixels gives the block at n/8 of its size: the reduced IDCT libjpeg's DCT scaling does,
give or take rounding. Only the zones the analysis asks for (corner codes, the header) are made
that way, so the page costs one read of its coefficients and a few small matrix products.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from scanner.decoding import FIRST_LOOK_DPI, eighth_size

BLOCK = 8
# JPEG stores quantisation tables in zigzag order; libjpeg's coefficient blocks are in natural
# (row-major) order. ZIGZAG[k] is the natural index of the k-th zigzag entry.
ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip


def natural_order(zigzag_table: tuple[int, ...]) -> np.ndarray:
    """A 64-entry quantisation table from a DQT segment, as an 8×8 array in natural order."""
    table = np.zeros(64, np.float32)
    table[list(ZIGZAG)] = zigzag_table
    return table.reshape(BLOCK, BLOCK)


@functools.cache
def reduction_matrix(n: int) -> np.ndarray:
    """n×n: row x = the mean of the 8-point IDCT basis over the x-th run of 8/n pixels, for the
    n lowest frequencies (JPEG's normalisation: f = Σ C(u)/2 · F(u) · cos((2p+1)uπ/16))."""
    run = BLOCK // n
    matrix = np.zeros((n, n), np.float64)
    for x in range(n):
        pixels = range(x * run, (x + 1) * run)
        for u in range(n):
            scale = (1 / math.sqrt(2) if u == 0 else 1.0) / 2
            matrix[x, u] = scale * np.mean([math.cos((2 * p + 1) * u * math.pi / 16) for p in pixels])
    return matrix.astype(np.float32)


@functools.lru_cache(maxsize=16)
def _pixels_matrix(n: int, quant: tuple[float, ...]) -> np.ndarray:
    """(8n, n²): a block's n×n pixels (row-major) from the first n rows of its quantised
    coefficients, 8 per row (those rows lie together in memory; the columns past n are ignored).

    pixel (y, x) = Σ m[y, v] · m[x, u] · q[v, u] · F[v, u], the quantisers folded in."""
    m = reduction_matrix(n).astype(np.float64)
    q = np.asarray(quant, np.float64).reshape(BLOCK, BLOCK)
    matrix = np.zeros((n * BLOCK, n * n), np.float64)
    for v in range(n):
        for u in range(n):
            matrix[v * BLOCK + u] = q[v, u] * np.outer(m[:, v], m[:, u]).ravel()
    return matrix.astype(np.float32)


def reduced_pixels(blocks: np.ndarray, quant: np.ndarray, n: int) -> np.ndarray:
    """Blocks (rows, cols, 8, 8; quantised, natural order) → gray image of (rows·n, cols·n), uint8.

    One matrix product for all blocks (numpy's BLAS: the scan workers run it on one thread,
    scanner.decoding.prepare_analysis_process), then OpenCV's saturating, rounding cast."""
    rows, cols = blocks.shape[:2]
    if rows == 0 or cols == 0:
        return np.zeros((rows * n, cols * n), np.uint8)
    low = blocks[:, :, :n, :].astype(np.float32).reshape(-1, n * BLOCK)
    pixels = low @ _pixels_matrix(n, tuple(quant.ravel().tolist()))
    gray = cv2.add(pixels, 128.0, dtype=cv2.CV_8U)  # level shift
    # Blocks side by side: each block's row of n pixels moved as one n-byte integer (a tenth of
    # the time numpy takes to move them pixel by pixel).
    rows_of_n = gray.reshape(rows, cols, n * n).view(f"u{n}")
    image = np.ascontiguousarray(rows_of_n.transpose(0, 2, 1))
    return image.view(np.uint8).reshape(rows * n, cols * n)


def dc_pixels(dc: np.ndarray, dc_quant: float) -> np.ndarray:
    """Each block's mean (its DC coefficient) as one pixel: the page at ⅛, uint8."""
    pixels = dc.astype(np.float32)  # the one pass over the plane's memory (a cache line a block)
    pixels *= dc_quant / BLOCK
    return cv2.add(pixels, 128.0, dtype=cv2.CV_8U)  # level shift, rounded and saturated


class CoefficientImage:
    """A page for the analysis (scanner.decoding.PageImage), made from the luma plane's
    coefficients while libjpeg holds them.

    `blocks` is libjpeg's own memory: valid only until the transform reading it goes on, so the
    analysis runs before that, and close() drops the view (any later use is an error, not a
    read of freed memory)."""

    def __init__(
        self,
        blocks: np.ndarray | None,
        quant: np.ndarray,
        *,
        factor: int,
        width: int,
        height: int,
        dpi: float,
        parent: CoefficientImage | None = None,
    ):
        self._blocks = blocks
        self._parent = parent  # a coarser view reads its parent's blocks (closed with it)
        self._quant = quant
        self.factor = factor
        self.width, self.height, self.dpi = width, height, dpi
        self._n = BLOCK // factor  # coefficients kept per block side: the analysis pixels per block
        self._gray: np.ndarray | None = None
        self._made: tuple[tuple[int, int, int, int], np.ndarray] | None = None  # the last zone made

    @property
    def pixels_per_mm(self) -> float:
        return self.dpi / self.factor / 25.4

    @property
    def shape(self) -> tuple[int, int]:
        return math.ceil(self.height / self.factor), math.ceil(self.width / self.factor)

    def _live_blocks(self) -> np.ndarray:
        if self._parent is not None:
            return self._parent._live_blocks()
        if self._blocks is None:
            raise RuntimeError("the page's coefficients are no longer readable (closed)")
        return self._blocks

    def crop(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """The analysis image's pixels [y0:y1, x0:x1] (clipped to the page), from the blocks under them."""
        rows, cols = self.shape
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(cols, x1), min(rows, y1)
        if x1 <= x0 or y1 <= y0:
            return np.zeros((max(0, y1 - y0), max(0, x1 - x0)), np.uint8)
        if self._made is not None:
            (mx0, my0, mx1, my1), made = self._made
            if mx0 <= x0 and my0 <= y0 and x1 <= mx1 and y1 <= my1:
                return np.ascontiguousarray(made[y0 - my0 : y1 - my0, x0 - mx0 : x1 - mx0])
        n = self._n
        b0, b1 = y0 // n, math.ceil(y1 / n)
        c0, c1 = x0 // n, math.ceil(x1 / n)
        pixels = reduced_pixels(self._live_blocks()[b0:b1, c0:c1], self._quant, n)
        # Kept for a zone asked for next inside this one (page 1's label, inside its header).
        self._made = ((c0 * n, b0 * n, c1 * n, b1 * n), pixels)
        return np.ascontiguousarray(pixels[y0 - b0 * n : y1 - b0 * n, x0 - c0 * n : x1 - c0 * n])

    @property
    def gray(self) -> np.ndarray:
        """The whole analysis image (several ms: only for the rare page searched whole)."""
        if self._gray is None:
            rows, cols = self.shape
            self._gray = self.crop(0, 0, cols, rows)
        return self._gray

    def eighth(self) -> tuple[np.ndarray, int]:
        columns, rows = eighth_size(self.width, self.height)
        dc = self._live_blocks()[:rows, :columns, 0, 0]
        return dc_pixels(dc, float(self._quant[0, 0])), max(1, BLOCK // self.factor)

    def coarser(self) -> CoefficientImage | None:
        """The page at half this resolution, if it stays at FIRST_LOOK_DPI or more: fewer
        coefficients per block, a quarter of the pixels to search."""
        factor = self.factor * 2
        if factor > BLOCK or self.dpi / factor < FIRST_LOOK_DPI:
            return None
        return CoefficientImage(
            None, self._quant, factor=factor, width=self.width, height=self.height, dpi=self.dpi, parent=self
        )

    def close(self) -> None:
        self._blocks = None
        self._made = None
