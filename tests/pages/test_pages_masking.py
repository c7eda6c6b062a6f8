"""Masking page 1: the header zone white on every corrector-facing page 1, the rest untouched."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.masking import (
    block_grid,
    header_polygon,
    lossless_available,
    mask_jpeg_lossless,
    mask_png,
    pixel_mask,
)
from scanner.pages import process_page
from scanner.placement import assumed_placement
from scanner.sources import SourcePage
from testkit.drawn_pages import DrawnPage
from testkit.scan_files import encode_jpeg

COPY_ID = "23456789Z"


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def test_lossless_path_is_available_here():
    # Debian's libturbojpeg0 is installed with PyTurboJPEG: the lossless path must not silently vanish.
    assert lossless_available()


@pytest.mark.parametrize(("rotation", "skew"), [(0, 0.0), (90, 1.5), (180, -2.0), (270, 0.8)])
def test_every_corrector_facing_page_one_has_its_header_white(jpeg_scan, model, rotation, skew):
    page = DrawnPage(copy_id=COPY_ID, number=1, registration="AB12345", seed=21)
    data = jpeg_scan(page, rotation, skew)
    result = process_page(SourcePage("s#0", "0" * 64, 0, data, "image/jpeg", 300.0), model, "U3")
    a = result.analysis
    assert a.number == 1 and a.label_registration == "AB12345"
    assert result.image is not None and result.media_type == "image/jpeg"
    original, masked = decode(data), decode(result.image)
    # 1. Inside the mask: white, in every pixel.
    polygon = header_polygon(np.array(a.placement).reshape(2, 3), model)
    mask = pixel_mask(polygon, original.shape[1], original.shape[0])
    assert masked[mask].min() == 255
    # 2. Outside the mask: pixel-identical (no re-compression).
    assert np.array_equal(masked[~mask], original[~mask])
    # 3. The whole header box, sampled every 2 mm through the page's placement: no ink left.
    x, y, w, h = model.header
    p = np.array(a.placement).reshape(2, 3)
    us, vs = np.meshgrid(np.arange(x, x + w + 0.01, 2.0), np.arange(y, y + h + 0.01, 2.0))
    pts = np.stack([us.ravel(), vs.ravel(), np.ones(us.size)])
    px, py = np.round(p @ pts).astype(int)
    assert masked[py, px].min() == 255
    # ... while the same points carried ink on the scan (names, label): the test can fail.
    assert original[py, px].min() < 100
    # 4. The anonymity number on the title line stays visible (not masked).
    tx, ty, tw, th = model.title_line
    title = np.array([[tx + tw / 2, ty + th / 2]])
    tx_px, ty_px = (p[:, :2] @ title.T).ravel() + p[:, 2]
    assert not mask[int(ty_px), int(tx_px)]
    assert original[~mask].min() < 100  # and ink there survives by (2)


def test_pages_other_than_one_are_the_scanners_bytes(jpeg_scan, model):
    data = jpeg_scan(DrawnPage(copy_id=COPY_ID, number=2, seed=22), 0, 0.5)
    result = process_page(SourcePage("s#1", "0" * 64, 1, data, "image/jpeg", 300.0), model)
    assert result.image is data or result.image == data


def test_bilevel_page_one_masked_in_pixels_as_png(gray_scan, model):
    gray = gray_scan(DrawnPage(copy_id=COPY_ID, number=1, registration="AB12345", seed=23), 180)
    binary = np.where(gray > 150, 255, 0).astype(np.uint8)
    ok, png = cv2.imencode(".png", binary, [cv2.IMWRITE_PNG_BILEVEL, 1])
    result = process_page(SourcePage("s#0", "0" * 64, 0, png.tobytes(), "image/png", 300.0), model)
    assert result.analysis.number == 1 and result.media_type == "image/png"
    masked = decode(result.image)
    polygon = header_polygon(np.array(result.analysis.placement).reshape(2, 3), model)
    mask = pixel_mask(polygon, binary.shape[1], binary.shape[0])
    assert masked[mask].min() == 255
    assert np.array_equal(masked[~mask], binary[~mask])


@pytest.fixture(scope="module")
def textured_jpegs():
    rng = np.random.default_rng(5)
    gray = (rng.random((408, 296)) * 255).astype(np.uint8)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    color = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    color[:, :, 0] = 255 - color[:, :, 0]
    return {
        "gray": encode_jpeg(gray, 36),
        "color420": cv2.imencode(".jpg", color, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes(),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rotation=st.sampled_from([0, 90, 180, 270]),
    skew=st.floats(-6, 6),
    dx=st.floats(-20, 20),
    dy=st.floats(-20, 20),
)
def test_lossless_mask_property(textured_jpegs, model, rotation, skew, dx, dy):
    """For any placement: the masked blocks are white, every other pixel is unchanged (grayscale)."""
    data = textured_jpegs["gray"]
    original = decode(data)
    h, w = original.shape
    placement = assumed_placement(w, h, 36, rotation, skew, model)
    placement[:, 2] += (dx, dy)
    polygon = header_polygon(placement, model)
    masked = decode(mask_jpeg_lossless(data, polygon))
    mask = pixel_mask(polygon, w, h)
    assert np.array_equal(masked[~mask], original[~mask])
    if mask.any():
        assert masked[mask].min() == 255


def test_lossless_mask_on_subsampled_colour(textured_jpegs, model):
    """Colour 4:2:0: masked blocks white; away from the mask's edge (chroma upsampling reach) unchanged."""
    data = textured_jpegs["color420"]
    original = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = original.shape[:2]
    placement = assumed_placement(w, h, 36, 0, 0.0, model)
    polygon = header_polygon(placement, model)
    masked = cv2.imdecode(np.frombuffer(mask_jpeg_lossless(data, polygon), np.uint8), cv2.IMREAD_COLOR)
    luma = pixel_mask(polygon, w, h)
    grid = block_grid(polygon, w, h, 0.5, 0.5)  # the chroma blocks: 16×16 pixels each, a wider zone
    chroma = np.repeat(np.repeat(grid, 16, 0), 16, 1)[:h, :w]
    assert luma.any() and not (luma & ~chroma).any()
    assert masked[luma].min() >= 250
    far = cv2.dilate(chroma.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert np.array_equal(masked[~far], original[~far])


def test_png_mask_keeps_everything_else(model):
    rng = np.random.default_rng(1)
    gray = (rng.random((700, 500)) * 255).astype(np.uint8)
    png = cv2.imencode(".png", gray)[1].tobytes()
    placement = assumed_placement(500, 700, 60, 90, 2.0, model)
    polygon = header_polygon(placement, model)
    out = decode(mask_png(png, polygon))
    mask = pixel_mask(polygon, 500, 700)
    assert mask.any() and out[mask].min() == 255
    assert np.array_equal(out[~mask], gray[~mask])
