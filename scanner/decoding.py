"""Decoding scanned images as little as the analysis needs, and reading their headers safely.

Headers are parsed by hand (a few hundred bytes) so that a hostile size is refused
before any decoder allocates memory for it. The analysis image is decoded reduced
(libjpeg's DCT scaling: ½ of a 300 dpi page costs less than a full decode and is
plenty for 15 mm codes), never at full size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import threading
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

# A scanned A4 page at 600 dpi is 4961×7016: anything far beyond is refused unread.
MAX_SIDE = 20_000
MAX_PIXELS = 200_000_000
A4_LONG_MM = 297.0
# Analysis resolution: 15 mm codes need ≥ 3 pixels per module, i.e. about 100 dpi or more.
MIN_ANALYSIS_DPI = 100.0
# Where it is cheap (a JPEG read as coefficients), the corner codes are first looked for at
# 75 dpi (1.8 pixels per module): well-scanned pages give all four codes there, in half the time;
# any page that does not is looked at again at the analysis resolution.
FIRST_LOOK_DPI = 72.0


def too_large(width: int, height: int) -> bool:
    return width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS


@dataclass(frozen=True)
class ImageHeader:
    width: int
    height: int
    dpi: float | None
    components: int = 1
    complete: bool = True  # the file ends where its format says it should (not cut short)
    # JPEG only: per component, (horizontal, vertical) sampling and the DC quantiser.
    sampling: tuple[tuple[int, int], ...] = ()
    dc_quant: tuple[int, ...] = ()
    # JPEG only: per component, its whole quantisation table (64 entries, zigzag order).
    quant: tuple[tuple[int, ...], ...] = ()
    # JPEG only: the first component is the page's brightness (gray, or the Y of YCbCr), as
    # libjpeg decides it: not for an RGB or CMYK JPEG.
    luma_first: bool = False


_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def jpeg_header(data: bytes) -> ImageHeader | None:
    """Size, resolution, sampling and DC quantisers from a JPEG's markers; None if damaged."""
    if data[:2] != b"\xff\xd8":
        return None
    i, n = 2, len(data)
    dpi: float | None = None
    quant: dict[int, tuple[int, ...]] = {}
    frame: tuple[int, int, list[tuple[int, int, int]]] | None = None
    adobe_transform: int | None = None
    component_ids = b""
    jfif = False
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: every header segment has been seen
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > n:
            return None
        segment = data[i + 4 : i + 2 + length]
        if marker == 0xE0 and segment[:5] == b"JFIF\x00" and len(segment) >= 12:
            dpi = _jfif_dpi(segment)
            jfif = True
        elif marker == 0xEE and segment[:5] == b"Adobe" and len(segment) >= 12:
            adobe_transform = segment[11]
        elif marker == 0xDB:
            _read_dqt(segment, quant)
        elif marker in _SOF_MARKERS and len(segment) >= 6:
            height = int.from_bytes(segment[1:3], "big")
            width = int.from_bytes(segment[3:5], "big")
            count = segment[5]
            comps = []
            for c in range(count):
                base = 6 + 3 * c
                if base + 3 > len(segment):
                    return None
                sampling = segment[base + 1]
                comps.append((sampling >> 4, sampling & 0x0F, segment[base + 2]))
            frame = (width, height, comps)
            component_ids = bytes(segment[6 + 3 * c] for c in range(count))
        i += 2 + length
    if frame is None or frame[0] == 0 or frame[1] == 0:
        return None
    width, height, comps = frame
    return ImageHeader(
        width=width,
        height=height,
        dpi=dpi,
        components=len(comps),
        complete=_without_padding(data)[-2:] == b"\xff\xd9",
        sampling=tuple((h, v) for h, v, _ in comps),
        dc_quant=tuple(quant.get(t, (1,))[0] for _, _, t in comps),
        quant=tuple(quant.get(t, (1,) * 64) for _, _, t in comps),
        luma_first=_luma_first(len(comps), jfif, adobe_transform, component_ids),
    )


def _luma_first(components: int, jfif: bool, adobe_transform: int | None, component_ids: bytes) -> bool:
    """libjpeg's reading of the colour space (jdapimin.c): three components are YCbCr with a JFIF
    marker; else unless an Adobe marker says "no transform", or without one, the components are
    named R, G, B."""
    if components == 1:
        return True
    if components != 3:
        return False
    if jfif:
        return True
    if adobe_transform is not None:
        return adobe_transform != 0
    return component_ids != b"RGB"


def _without_padding(data: bytes) -> bytes:
    """The file's last bytes without the zero padding some scanners add: the end of a 500 KB page
    without copying the page (the header is read three times per page)."""
    tail = data[-4096:].rstrip(b"\x00")
    return tail if tail or len(data) <= 4096 else data.rstrip(b"\x00")


def _jfif_dpi(segment: bytes) -> float | None:
    units = segment[7]
    x_density = int.from_bytes(segment[8:10], "big")
    if x_density == 0 or units not in (1, 2):
        return None
    dpi = float(x_density) if units == 1 else x_density * 2.54
    return dpi if 50 <= dpi <= 2400 else None


def _read_dqt(segment: bytes, quant: dict[int, tuple[int, ...]]) -> None:
    j = 0
    while j < len(segment):
        precision, table = segment[j] >> 4, segment[j] & 0x0F
        if precision == 0:
            if j + 65 > len(segment):
                return
            quant[table] = tuple(segment[j + 1 : j + 65])
            j += 65
        else:
            if j + 129 > len(segment):
                return
            values = segment[j + 1 : j + 129]
            quant[table] = tuple(int.from_bytes(values[k : k + 2], "big") for k in range(0, 128, 2))
            j += 129


def png_header(data: bytes) -> ImageHeader | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 33:
        return None
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    if width == 0 or height == 0:
        return None
    dpi = None
    i = 8
    while i + 8 <= len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        if kind == b"pHYs" and length == 9 and data[i + 16] == 1:
            per_metre = int.from_bytes(data[i + 8 : i + 12], "big")
            value = per_metre * 0.0254
            dpi = round(value, 1) if 50 <= value <= 2400 else None
        if kind in (b"IDAT", b"IEND"):
            break
        i += 12 + length
    complete = _without_padding(data).endswith(b"IEND\xaeB`\x82")
    return ImageHeader(width=width, height=height, dpi=dpi, complete=complete)


def header_of(data: bytes, media_type: str) -> ImageHeader | None:
    return jpeg_header(data) if media_type == "image/jpeg" else png_header(data)


def page_dpi(header: ImageHeader, given: float | None) -> float:
    """The resolution from the file, else from the page's size assuming an A4 sheet."""
    if given:
        return float(given)
    return max(header.width, header.height) / (A4_LONG_MM / 25.4)


def reduction_for(dpi: float) -> int:
    """The largest libjpeg scale factor (1, 2, 4, 8) keeping the analysis image ≥ 100 dpi."""
    factor = 1
    while factor < 8 and dpi / (factor * 2) >= MIN_ANALYSIS_DPI:
        factor *= 2
    return factor


_REDUCED_FLAGS = {
    1: cv2.IMREAD_GRAYSCALE,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
}


class PageImage(Protocol):
    """A page as the analysis sees it: a reduced grayscale image, read whole or by zones, and the
    page at ⅛. Two kinds: decoded pixels (AnalysisImage), or a JPEG's DCT coefficients read once
    (scanner.dct.CoefficientImage), which make only the zones asked for."""

    factor: int  # full-resolution pixels per analysis pixel
    width: int  # full-resolution size
    height: int
    dpi: float  # full-resolution dots per inch

    @property
    def shape(self) -> tuple[int, int]: ...  # (rows, columns) of the analysis image

    @property
    def gray(self) -> np.ndarray: ...  # the whole analysis image

    @property
    def pixels_per_mm(self) -> float: ...

    def crop(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray: ...

    def eighth(self) -> tuple[np.ndarray, int]: ...

    def coarser(self) -> PageImage | None: ...  # the same page at half the resolution, when cheap


def eighth_size(width: int, height: int) -> tuple[int, int]:
    """(columns, rows) of a page at ⅛: one pixel per 8×8 block, edge blocks included."""
    return math.ceil(width / 8), math.ceil(height / 8)


@dataclass(frozen=True)
class AnalysisImage:
    gray: np.ndarray  # reduced grayscale image the analysis works on
    factor: int  # full-resolution pixels per analysis pixel
    width: int  # full-resolution size
    height: int
    dpi: float  # full-resolution dots per inch

    @property
    def pixels_per_mm(self) -> float:
        return self.dpi / self.factor / 25.4

    @property
    def shape(self) -> tuple[int, int]:
        return self.gray.shape[:2]

    def crop(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        return np.ascontiguousarray(self.gray[max(0, y0) : y1, max(0, x0) : x1])

    def eighth(self) -> tuple[np.ndarray, int]:
        """The page at ⅛ of full resolution, each pixel the mean of an 8×8 block of the page (what
        a JPEG's DC coefficient holds, so both kinds of image give the same ⅛ page), and how many
        analysis pixels make one of its pixels."""
        shrink = max(1, 8 // self.factor)
        if shrink == 1:
            return self.gray, 1
        columns, rows = eighth_size(self.width, self.height)
        # Edge blocks are completed by repeating the last pixels, as a JPEG encoder does.
        padded = cv2.copyMakeBorder(
            self.gray,
            0,
            rows * shrink - self.gray.shape[0],
            0,
            columns * shrink - self.gray.shape[1],
            cv2.BORDER_REPLICATE,
        )
        return cv2.resize(padded, (columns, rows), interpolation=cv2.INTER_AREA), shrink

    def coarser(self) -> None:
        return None  # a resize of decoded pixels costs about what it would save


class UndecodableImage(ValueError):
    """The image's bytes cannot be decoded: the message is plain words for the operator."""


# ---------------------------------------------------------------- JPEG through libturbojpeg

# OpenCV decodes a JPEG whose data is damaged part-way without a word: the rest of the page comes
# out gray, and a page cut that way looks like a blank verso. libturbojpeg says so (a warning),
# decodes at the same speed (the same library underneath) and writes into our own array.
_TJPF_GRAY = 6
_TJFLAG_STOPONWARNING = 8192
_TJERR_FATAL = 1
# Warnings that lose nothing of the page: decoded again without stopping on them.
_HARMLESS_WARNINGS = ("extraneous bytes",)


@functools.cache
def turbojpeg() -> ctypes.CDLL | None:
    """libturbojpeg, opened once per process, with the signatures of the calls the decoder and
    the mask (scanner.masking) share; None when it is not installed."""
    for name in ("libturbojpeg.so.0", ctypes.util.find_library("turbojpeg")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.tjInitDecompress.restype = ctypes.c_void_p
        lib.tjInitTransform.restype = ctypes.c_void_p
        lib.tjDecompress2.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.tjDestroy.argtypes = [ctypes.c_void_p]
        lib.tjFree.argtypes = [ctypes.POINTER(ctypes.c_ubyte)]
        lib.tjGetErrorCode.argtypes = [ctypes.c_void_p]
        lib.tjGetErrorStr2.argtypes = [ctypes.c_void_p]
        lib.tjGetErrorStr2.restype = ctypes.c_char_p
        return lib
    return None


class _TurboDecoder(threading.local):
    """One libturbojpeg decompressor per thread (a handle is not shared between threads)."""

    def __init__(self) -> None:
        self.handle: int | None = None

    def decode(self, data: bytes, width: int, height: int, factor: int) -> np.ndarray | None:
        """The JPEG reduced by `factor`, in gray; None when libturbojpeg is not there.

        Raises UndecodableImage when the data is damaged, even part-way."""
        lib = turbojpeg()
        if lib is None:
            return None
        if self.handle is None:
            self.handle = lib.tjInitDecompress()
            if not self.handle:
                return None
        # Asking for the reduced size makes libjpeg scale in the DCT (1/2, 1/4, 1/8).
        w, h = math.ceil(width / factor), math.ceil(height / factor)
        out = np.empty((h, w), np.uint8)
        flags = _TJFLAG_STOPONWARNING
        while lib.tjDecompress2(self.handle, data, len(data), out.ctypes.data, w, w, h, _TJPF_GRAY, flags):
            message = (lib.tjGetErrorStr2(self.handle) or b"").decode(errors="replace")
            if lib.tjGetErrorCode(self.handle) == _TJERR_FATAL:
                raise UndecodableImage("the image is damaged and cannot be decoded: scan the page again")
            if flags and any(words in message for words in _HARMLESS_WARNINGS):
                flags = 0
                continue
            if not flags:
                break
            raise UndecodableImage(
                f"the image's data is damaged part-way ({message.rstrip('.')}): scan the page again"
            )
        return out


_turbo = _TurboDecoder()


def decode_for_analysis(data: bytes, media_type: str, given_dpi: float | None) -> AnalysisImage:
    header = header_of(data, media_type)
    if header is None:
        raise UndecodableImage("the image is damaged (its header cannot be read): scan the page again")
    if too_large(header.width, header.height):
        raise UndecodableImage("the image is far larger than a scanned page: scan the page again")
    dpi = page_dpi(header, given_dpi)
    factor = reduction_for(dpi)
    buf = np.frombuffer(data, np.uint8)
    if media_type == "image/jpeg":
        gray = _turbo.decode(data, header.width, header.height, factor)
        if gray is None:
            gray = cv2.imdecode(buf, _REDUCED_FLAGS[factor])
    else:
        gray = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        if gray is not None and factor > 1:
            size = (math.ceil(gray.shape[1] / factor), math.ceil(gray.shape[0] / factor))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    if gray is None:
        raise UndecodableImage("the image is damaged and cannot be decoded: scan the page again")
    return AnalysisImage(gray=gray, factor=factor, width=header.width, height=header.height, dpi=dpi)


def keep_decode_buffers() -> bool:
    """Ask glibc to keep freed page-sized buffers instead of returning them to the kernel.

    Measured: without it every decode pays ~2,700 page faults for its fresh buffer,
    doubling decode time. Same effect as GLIBC_TUNABLES for the scan workers, but
    applies to an already running process. Returns False where there is no glibc.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    # glibc caps the mmap threshold at 32 MiB on 64-bit systems; a 600 dpi page is 35 MB.
    ok_mmap = mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    ok_trim = mallopt(m_trim_threshold, 512 * 1024 * 1024)
    return bool(ok_mmap and ok_trim)


def prepare_analysis_process() -> None:
    """Set up a process that analyses pages, one such process per core.

    malloc keeps its page-sized buffers (keep_decode_buffers), and OpenCV and the two OpenBLAS
    libraries loaded (numpy's, and OpenCV's own for its matrix products) work on the calling
    thread only: their spare threads otherwise keep spinning on the other core for a while after
    each call, and that time is billed to the analysis (about 2 % per page, measured)."""
    from threadpoolctl import threadpool_limits

    keep_decode_buffers()
    cv2.setNumThreads(1)
    threadpool_limits(limits=1)
