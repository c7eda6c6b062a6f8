"""Page images as a corrector's screen wants them: upright, straightened, width-limited JPEG.

The stored scan is never changed (rotation and skew are metadata of the page). The display
derivative is made once per (image, rotation, skew, width), kept on disk beside the store, and
served with a strong ETag and `immutable` caching: its name says everything it depends on.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from correction_server.storage import ObjectStore

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


def pick_width(asked: int | None) -> int:
    if not asked:
        return DEFAULT_WIDTH
    for width in WIDTHS:
        if asked <= width:
            return width
    return WIDTHS[-1]


# Bumped whenever the rendering changes, so a derivative made the old way is never served again.
# 2: the skew turned the wrong way (it doubled the lean instead of removing it).
RENDERING = 2


def derivative_name(sha256: str, rotation: int, skew: float, width: int) -> str:
    skew = round(skew, 1) if abs(skew) >= MIN_SKEW else 0.0
    return f"{sha256}-r{rotation % 360}-s{skew:+.1f}-w{width}-v{RENDERING}.jpg"


def etag_of(name: str) -> str:
    return '"' + hashlib.sha256(name.encode()).hexdigest()[:32] + '"'


def display_image(
    store: ObjectStore, cache_dir: Path, sha256: str, rotation: int, skew: float, width: int
) -> Derivative:
    name = derivative_name(sha256, rotation, skew, width)
    path = cache_dir / sha256[:2] / name
    etag = etag_of(name)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _render(store, sha256, rotation, skew, width)
        # Write then rename: two workers making the same derivative never serve half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    return Derivative(path, etag)


def _render(store: ObjectStore, sha256: str, rotation: int, skew: float, width: int) -> bytes:
    with store.open(sha256) as handle:
        image = Image.open(handle)
        sideways = rotation % 180 == 90
        if image.format == "JPEG":
            # Decode at a reduced scale straight from the DCT (much faster than decode + resize).
            target = (width * 2, width * 3) if not sideways else (width * 3, width * 2)
            image.draft(image.mode if image.mode in ("L", "RGB") else "RGB", target)
        image.load()
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    # `rotation` is the clockwise turn that makes the page upright; PIL turns anticlockwise.
    turns = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    if rotation % 360 in turns:
        image = image.transpose(turns[rotation % 360])
    if abs(skew) >= MIN_SKEW:
        # `skew` is the page's `skew_degrees`, as the scan station measures it
        # (scanner.pages.PageAnalysis): the clockwise turn that straightens the upright page;
        # positive when the content leans anticlockwise. PIL turns anticlockwise: hence the minus.
        fill = 255 if image.mode == "L" else (255, 255, 255)
        image = image.rotate(-round(skew, 1), resample=Image.Resampling.BILINEAR, fillcolor=fill)
    if image.width > width:
        height = round(image.height * width / image.width)
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
