"""Page images as a corrector's screen wants them: upright, straightened, width-limited JPEG.

The stored scan is never changed (rotation and skew are metadata of the page). The display
derivative is made once per (image, rotation, skew, width), kept on disk beside the store (and
in the bucket, for the other hosts), and served with a strong ETag and `immutable` caching: its
name says everything it depends on.
Derivatives are made when a lot arrives (correction_server.page_rendering); a page viewed before
its derivative exists gets it made on the spot.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from correction_server.pages.store import ObjectStore
from massicot_core.files import replace_atomically

# Widths offered: a laptop screen, a large screen, zoomed. Anything else is rounded up to one.
WIDTHS = (900, 1400, 2000)
DEFAULT_WIDTH = 1400
JPEG_QUALITY = 80
# Below this a straightening would only blur the page.
MIN_SKEW = 0.2


@dataclass(frozen=True)
class Derivative:
    path: Path
    etag: str


@dataclass(frozen=True)
class PageLook:
    """What a derivative depends on besides its width: the image and how to turn it upright."""

    sha256: str
    rotation: int = 0
    skew: float = 0.0


def pick_width(asked: int | None) -> int:
    if not asked:
        return DEFAULT_WIDTH
    for width in WIDTHS:
        if asked <= width:
            return width
    return WIDTHS[-1]


# Bumped whenever the rendering changes, so a derivative made the old way is never served again.
# 2: the skew turned the wrong way (it doubled the lean instead of removing it).
# 3: reduced first, then turned (OpenCV, area resampling): 2-3 times faster, so made at ingest.
RENDERING = 3


def derivative_name(sha256: str, rotation: int, skew: float, width: int) -> str:
    skew = round(skew, 1) if abs(skew) >= MIN_SKEW else 0.0
    return f"{sha256}-r{rotation % 360}-s{skew:+.1f}-w{width}-v{RENDERING}.jpg"


def derivative_path(cache_dir: Path, look: PageLook, width: int) -> Path:
    return cache_dir / look.sha256[:2] / derivative_name(look.sha256, look.rotation, look.skew, width)


def etag_of(name: str) -> str:
    return '"' + hashlib.sha256(name.encode()).hexdigest()[:32] + '"'


def display_image(
    store: ObjectStore, cache_dir: Path, sha256: str, rotation: int, skew: float, width: int
) -> Derivative:
    look = PageLook(sha256, rotation, skew)
    path = derivative_path(cache_dir, look, width)
    if not path.is_file():
        # Another host (the job queue's worker) may have made it already: a GET, not a decode.
        shared = store.get_shared(path.name)
        if shared is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            replace_atomically(path, shared)
        else:
            make_derivatives(store, cache_dir, look, (width,))
    return Derivative(path, etag_of(path.name))


def missing_widths(cache_dir: Path, look: PageLook, widths: Sequence[int]) -> list[int]:
    return [w for w in widths if not derivative_path(cache_dir, look, w).is_file()]


def make_derivatives(
    store: ObjectStore, cache_dir: Path, look: PageLook, widths: Sequence[int]
) -> list[Path]:
    """Render `widths` of one page from a single decode, each written then renamed into place."""
    ordered = sorted(set(widths), reverse=True)
    made = []
    image = None
    for width in ordered:
        # Each smaller width is reduced from the larger one already turned upright: one decode.
        image = _upright(store, look, width) if image is None else _reduce(image, width)
        path = derivative_path(cache_dir, look, width)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: two processes making the same derivative never serve half a file.
        data = _encode(image)
        replace_atomically(path, data)
        store.put_shared(path.name, data)
        made.append(path)
    return made


def _decode(store: ObjectStore, look: PageLook, width: int) -> Image.Image:
    with store.open(look.sha256) as handle:
        image = Image.open(handle)
        if image.format == "JPEG":
            # Decode at a reduced scale straight from the DCT where it keeps twice the width asked
            # (a 600 dpi scan): the area reduction below then still has pixels to average.
            sideways = look.rotation % 180 == 90
            target = (width * 2, width * 3) if not sideways else (width * 3, width * 2)
            image.draft(image.mode if image.mode in ("L", "RGB") else "RGB", target)
        image.load()
    if image.mode in ("1", "LA"):
        image = image.convert("L")  # a bilevel (fax-coded TIFF) or grey page stays grey
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return image


def _upright(store: ObjectStore, look: PageLook, width: int) -> np.ndarray:
    pixels = np.asarray(_decode(store, look, width))
    sideways = look.rotation % 180 == 90
    # Reduce first, then turn: turning a screen-size page costs a quarter of turning the scan.
    across = pixels.shape[0] if sideways else pixels.shape[1]
    if across > width:
        scale = width / across
        size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    # `rotation` is the clockwise turn that makes the page upright.
    turns = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    if look.rotation % 360 in turns:
        pixels = cv2.rotate(pixels, turns[look.rotation % 360])
    if abs(look.skew) >= MIN_SKEW:
        # `skew` is the page's `skew_degrees`, as the scan station measures it
        # (scanner.pages.PageAnalysis): the clockwise turn that straightens the upright page;
        # positive when the content leans anticlockwise. OpenCV turns anticlockwise: hence the minus.
        height, across = pixels.shape[:2]
        matrix = cv2.getRotationMatrix2D((across / 2, height / 2), -round(look.skew, 1), 1.0)
        white = 255 if pixels.ndim == 2 else (255, 255, 255)
        pixels = cv2.warpAffine(pixels, matrix, (across, height), flags=cv2.INTER_LINEAR, borderValue=white)
    return pixels


def _reduce(pixels: np.ndarray, width: int) -> np.ndarray:
    if pixels.shape[1] <= width:
        return pixels
    height = round(pixels.shape[0] * width / pixels.shape[1])
    return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA)


def _encode(pixels: np.ndarray) -> bytes:
    # Progressive: on a slow line the whole page shows blurred at a quarter of its bytes.
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
