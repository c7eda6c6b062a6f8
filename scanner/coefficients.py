"""A JPEG's DCT coefficients, read once through libjpeg-turbo's lossless transform.

tjTransform reads every coefficient of the image, then calls a filter once per block row of
each component, then entropy-codes the coefficients, changed or not, into a new JPEG. The mask
(scanner.masking) changes the header's blocks in that filter; the analysis (scanner.dct) reads
the luma plane there, whole: libjpeg keeps a plane's rows in one array, which is checked row by
row. A filter that stops ends the call before anything is written, so a page that needs no
mask costs one read of its coefficients, less than a reduced decode.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Protocol

import numpy as np

from scanner.decoding import turbojpeg

BLOCK = 8
BLOCK_BYTES = BLOCK * BLOCK * 2  # 64 coefficients of 16 bits
_TJFLAG_STOPONWARNING = 8192
# libjpeg-turbo allocates a plane's rows in chunks of up to 1e9 bytes: below that, one array.
_ONE_CHUNK_BYTES = 900_000_000


class CoefficientError(RuntimeError):
    """The JPEG's coefficients could not be read (or written) this way; the message says why."""


class RowVisitor(Protocol):
    def row(self, component: int, index: int, address: int, columns: int, rows: int) -> bool:
        """Block row `index` (of `rows`, `columns` blocks each) of a component, at `address` in
        libjpeg's memory; return False to stop the transform with nothing written."""
        ...


class _Region(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]


class _Transform(ctypes.Structure):
    pass


_FILTER = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_void_p,  # the block row's coefficients: an address, made an array only when needed
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


@functools.cache
def _library() -> ctypes.CDLL | None:
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
    return lib


def available() -> bool:
    return _library() is not None


class _Stopped(Exception):
    """The visitor stopped the transform on purpose."""


def transform(data: bytes, visitor: RowVisitor, *, stop_on_warning: bool = True) -> bytes | None:
    """Read `data`'s coefficients, show every block row to `visitor`, write the JPEG again.

    Returns the new JPEG, or None when the visitor stopped. Raises CoefficientError when libjpeg
    cannot read or write the image (with `stop_on_warning`, damaged data included), and
    re-raises what the visitor raised (an exception cannot cross the C boundary)."""
    lib = _library()
    if lib is None:
        raise CoefficientError("libjpeg-turbo is not installed")
    failure: list[BaseException] = []

    def coefficient_filter(address, array_region, plane_region, component, transform_index, transform):
        try:
            rows, columns = plane_region.h // BLOCK, array_region.w // BLOCK
            if not visitor.row(component, array_region.y // BLOCK, address, columns, rows):
                failure.append(_Stopped())
                return -1
            return 0
        except BaseException as exc:  # noqa: BLE001 — an exception cannot cross the C boundary
            failure.append(exc)
            return -1

    callback = _FILTER(coefficient_filter)  # kept alive until tjTransform returns
    spec = _Transform()
    spec.op = 0  # TJXOP_NONE
    spec.options = 0  # markers kept (resolution), baseline output
    spec.customFilter = callback
    handle = lib.tjInitTransform()
    if not handle:
        raise CoefficientError("libjpeg-turbo could not start a transform")
    out = ctypes.POINTER(ctypes.c_ubyte)()
    out_size = ctypes.c_ulong(0)
    flags = _TJFLAG_STOPONWARNING if stop_on_warning else 0
    try:
        status = lib.tjTransform(
            handle, data, len(data), 1, ctypes.byref(out), ctypes.byref(out_size), ctypes.byref(spec), flags
        )
        if failure:
            if isinstance(failure[0], _Stopped):
                return None
            raise failure[0]
        if status != 0 or not out:
            reason = (lib.tjGetErrorStr2(handle) or b"").decode(errors="replace")
            raise CoefficientError(reason or "libjpeg-turbo could not transform the image")
        return ctypes.string_at(out, out_size.value)
    finally:
        if out:
            lib.tjFree(out)
        lib.tjDestroy(handle)


def row_blocks(address: int, columns: int) -> np.ndarray:
    """One block row as an array (columns, 8, 8) of int16 over libjpeg's memory."""
    buffer = (ctypes.c_short * (columns * BLOCK * BLOCK)).from_address(address)
    return np.frombuffer(buffer, np.int16).reshape(columns, BLOCK, BLOCK)


class PlaneLayout:
    """Where a component's block rows lie, learnt from the filter's calls: rows 0 and 1 give the
    row stride, and any later row seen must sit where that stride puts it."""

    def __init__(self, columns: int, rows: int):
        self.columns, self.rows = columns, rows
        self.base: int | None = None
        self.stride: int | None = None

    def see(self, index: int, address: int) -> None:
        """Record row `index`; CoefficientError if it is not where the layout says."""
        if index == 0:
            self.base = address
            if self.rows == 1:
                self.stride = self.columns * BLOCK_BYTES
            return
        if self.base is None:
            raise CoefficientError("libjpeg showed a block row before the first one")
        if self.stride is None:
            stride = address - self.base
            if index != 1 or stride < self.columns * BLOCK_BYTES or stride * self.rows > _ONE_CHUNK_BYTES:
                raise CoefficientError("libjpeg keeps this image's coefficient rows apart")
            self.stride = stride
        elif address != self.base + index * self.stride:
            raise CoefficientError("libjpeg keeps this image's coefficient rows apart")

    @property
    def ready(self) -> bool:
        return self.stride is not None

    def plane(self, *, writeable: bool = False) -> np.ndarray:
        """The whole plane (rows, columns, 8, 8) of int16 over libjpeg's memory, from its first
        rows (planes_are_whole says the rest follow them): valid only while the filter runs."""
        assert self.base is not None and self.stride is not None
        size = (self.rows - 1) * self.stride + self.columns * BLOCK_BYTES
        buffer = (ctypes.c_ubyte * size).from_address(self.base)
        return np.lib.stride_tricks.as_strided(
            np.frombuffer(buffer, np.int16),
            shape=(self.rows, self.columns, BLOCK, BLOCK),
            strides=(self.stride, BLOCK_BYTES, BLOCK * 2, 2),
            writeable=writeable,
        )


class _EveryRow:
    """Checks every luma row against the layout of the first two (a RowVisitor)."""

    def __init__(self) -> None:
        self.layout: PlaneLayout | None = None

    def row(self, component: int, index: int, address: int, columns: int, rows: int) -> bool:
        if component == 0:
            if self.layout is None:
                self.layout = PlaneLayout(columns, rows)
            self.layout.see(index, address)
        return True


@functools.cache
def planes_are_whole() -> bool:
    """Whether this libjpeg keeps each plane's block rows in one array, one row after the other,
    so that a plane can be read whole from its first two rows.

    libjpeg-turbo does (its memory manager allocates a plane in one piece below 1 GB, and has no
    backing store to swap rows out to); checked once per process, row by row, on a page-wide
    image made here, so that another library's layout is never taken for it."""
    import cv2

    probe = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (640, 100))  # 2500 × 640, 80 block rows
    ok, encoded = cv2.imencode(".jpg", probe)
    if not ok or not available():
        return False
    try:
        return transform(encoded.tobytes(), _EveryRow()) is not None
    except CoefficientError:
        return False
