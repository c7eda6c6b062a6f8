"""The viewer straightens a page the way the scan station measured it: one sign convention."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from correction_server.pages import images as page_images
from correction_server.pages.store import LocalStore
from scanner.pages import projection_skew


def _ruled_page(lean_clockwise: float) -> bytes:
    """An A4 page at 100 dpi with ruled lines, its content turned `lean_clockwise` degrees."""
    page = Image.new("L", (827, 1169), 255)
    draw = ImageDraw.Draw(page)
    for y in range(120, 1080, 30):
        draw.line([(80, y), (747, y)], fill=0, width=3)
    turned = page.rotate(-lean_clockwise, resample=Image.Resampling.BILINEAR, fillcolor=255)
    out = io.BytesIO()
    turned.save(out, "JPEG", quality=90)
    return out.getvalue()


def _eighth(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data)).convert("L")
    return np.array(image.resize((image.width // 8, image.height // 8), Image.Resampling.BOX))


@pytest.mark.parametrize("lean", [3.0, -2.5])
def test_viewer_removes_the_skew_the_scanner_measured(tmp_path, lean):
    store = LocalStore(tmp_path / "store")
    scan = _ruled_page(lean)
    sha = store.put(scan)
    measured = projection_skew(_eighth(scan))
    assert measured == pytest.approx(-lean, abs=0.3)  # clockwise correction: opposite of the lean
    shown = page_images.display_image(store, tmp_path / "derived", sha, 0, measured, 900)
    assert abs(projection_skew(_eighth(shown.path.read_bytes()))) <= 0.3
