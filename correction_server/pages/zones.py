"""Masking a zone of a stored page image: the office's decision on an identifying sign.

The zone is given on the page as the corrector sees it (upright), in fractions of its width and
height, so it means the same at every display width. The stored image keeps its own
orientation (its `rotation` is metadata): the zone is turned back onto it, whited out there,
and the result is a new object of the store. The original object is never touched.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from massicot_core.errors import UserError

JPEG_QUALITY = 90


@dataclass(frozen=True)
class Zone:
    """Left, top, width, height in fractions (0–1) of the upright page."""

    left: float
    top: float
    width: float
    height: float

    def to_json(self) -> dict[str, float]:
        return {"left": self.left, "top": self.top, "width": self.width, "height": self.height}


def parse_zone(text: str) -> Zone:
    """'LEFT,TOP,WIDTH,HEIGHT' in percent of the upright page, e.g. '10,80,30,10'."""
    try:
        left, top, width, height = (
            float(part.replace(",", ".")) / 100 for part in text.split(";" if ";" in text else ",")
        )
    except ValueError:
        raise UserError(
            f"{text!r} is not a zone: give LEFT,TOP,WIDTH,HEIGHT in percent of the page, e.g. 10,80,30,10"
        ) from None
    zone = Zone(left, top, width, height)
    if not (0 <= left < 1 and 0 <= top < 1 and 0 < width <= 1 - left + 1e-9 and 0 < height <= 1 - top + 1e-9):
        raise UserError(
            f"the zone {text!r} is not inside the page: LEFT and TOP from 0 to 100, WIDTH and HEIGHT above 0 "
            "and within the page"
        )
    return zone


def _on_stored(zone: Zone, rotation: int) -> Zone:
    """The upright zone on the stored image, which `rotation` (clockwise) turns upright."""
    x, y, w, h = zone.left, zone.top, zone.width, zone.height
    turn = rotation % 360
    if turn == 90:  # stored = upright turned anticlockwise
        return Zone(y, 1 - x - w, h, w)
    if turn == 180:
        return Zone(1 - x - w, 1 - y - h, w, h)
    if turn == 270:
        return Zone(1 - y - h, x, h, w)
    return zone


def mask_zone(data: bytes, rotation: int, zone: Zone) -> bytes:
    """The image with the zone whited out, as a new JPEG (same size and orientation)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode not in ("L", "RGB"):
        image = image.convert("L" if image.mode in ("1", "LA", "I;16") else "RGB")
    pixels = np.array(image)
    height, width = pixels.shape[:2]
    stored = _on_stored(zone, rotation)
    x0, y0 = int(stored.left * width), int(stored.top * height)
    x1 = min(width, int(round((stored.left + stored.width) * width)))
    y1 = min(height, int(round((stored.top + stored.height) * height)))
    pixels[y0:y1, x0:x1] = 255
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
