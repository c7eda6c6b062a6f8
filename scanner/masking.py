"""Masking the identity header of page 1 before any corrector-facing image exists.

The zone is the copy model's header box, placed on the scan through the page's
rotation and skew, widened to whole 8×8 blocks. For JPEG scans the blocks are
turned white in the DCT domain (libjpeg-turbo's lossless transform with a
coefficient filter): every other block keeps its exact coefficients, so the page
outside the mask is pixel-identical and nothing is re-compressed. Other images
are masked in pixels and written as PNG (lossless).
"""

from __future__ import annotations

import ctypes
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from scanner.decoding import ImageHeader, jpeg_header, turbojpeg
from templates.copy_model import Box, CopyModel

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


class _Region(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]


class _Transform(ctypes.Structure):
    pass


_FILTER = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.POINTER(ctypes.c_short),
    _Region,
    _Region,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.POINTER(_Transform),
)
_Transform._fields_ = [
    ("r", _Region),
    ("op", ctypes.c_int),
    ("options", ctypes.c_int),
    ("data", ctypes.c_void_p),
    ("customFilter", _FILTER),
]


@dataclass
class _TurboJPEG:
    lib: ctypes.CDLL


@functools.cache
def _load_turbojpeg() -> _TurboJPEG | None:
    lib = turbojpeg()
    if lib is None:
        return None
    lib.tjTransform.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(_Transform),
        ctypes.c_int,
    ]
    return _TurboJPEG(lib)


def lossless_available() -> bool:
    return _load_turbojpeg() is not None


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


def mask_jpeg_lossless(data: bytes, polygon: np.ndarray) -> bytes:
    """White out, in the DCT domain, every block the polygon touches; all other blocks unchanged."""
    turbo = _load_turbojpeg()
    header = jpeg_header(data)
    if turbo is None or header is None:
        raise MaskingError("the JPEG cannot be masked losslessly here")
    h_max = max(h for h, _ in header.sampling)
    v_max = max(v for _, v in header.sampling)
    grids = [
        block_grid(polygon, header.width, header.height, h / h_max, v / v_max) for h, v in header.sampling
    ]
    whites = [_white_dc(header, c) for c in range(header.components)]
    # Per component, the runs of blocks to whiten in each block row (one run: the zone is convex);
    # the filter is called once per block row (~440 times for a 300 dpi page) and returns at once
    # for the rows outside the zone.
    runs = [_row_runs(grid) for grid in grids]
    failure: list[BaseException] = []

    def coefficient_filter(coeffs, array_region, plane_region, component, transform_index, transform):
        try:
            row0 = array_region.y // BLOCK
            rows = array_region.h // BLOCK
            mine = runs[component]
            todo = [(r, mine[row0 + r]) for r in range(rows) if row0 + r in mine]
            if not todo:
                return 0
            cols = array_region.w // BLOCK
            address = ctypes.cast(coeffs, ctypes.c_void_p).value
            blocks = np.frombuffer((ctypes.c_short * (rows * cols * 64)).from_address(address), np.int16)
            blocks = blocks.reshape(rows, cols, 64)
            for r, row_runs in todo:
                for c0, c1 in row_runs:
                    blocks[r, c0 : min(c1, cols)] = 0
                    blocks[r, c0 : min(c1, cols), 0] = whites[component]
            return 0
        except BaseException as exc:  # noqa: BLE001 — an exception cannot cross the C boundary
            failure.append(exc)
            return -1

    callback = _FILTER(coefficient_filter)
    transform = _Transform()
    transform.op = 0  # TJXOP_NONE
    transform.options = 0  # keep markers (resolution), baseline output
    transform.customFilter = callback
    handle = turbo.lib.tjInitTransform()
    if not handle:
        raise MaskingError("libjpeg-turbo could not start a transform")
    out = ctypes.POINTER(ctypes.c_ubyte)()
    out_size = ctypes.c_ulong(0)
    try:
        status = turbo.lib.tjTransform(
            handle, data, len(data), 1, ctypes.byref(out), ctypes.byref(out_size), ctypes.byref(transform), 0
        )
        if status != 0 or failure or not out:
            reason = turbo.lib.tjGetErrorStr2(handle) or b""
            raise MaskingError(f"the JPEG could not be masked: {reason.decode(errors='replace')}")
        return ctypes.string_at(out, out_size.value)
    finally:
        if out:
            turbo.lib.tjFree(out)
        turbo.lib.tjDestroy(handle)


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
