"""Fixtures for the per-page tests: drawn scans of booklet pages (testkit.drawn_pages)."""

from __future__ import annotations

from functools import cache

import pytest

from paper.copy_model import load_model
from testkit.drawn_pages import DrawnPage, draw_upright, scan_like
from testkit.scan_files import encode_jpeg

COPY_ID = "23456789Z"
REGISTRATION = "AB12345"


@pytest.fixture(scope="session")
def model():
    return load_model()


@cache
def upright(spec: DrawnPage):
    return draw_upright(spec, load_model())


@cache
def scan_jpeg(spec: DrawnPage, rotation: int = 0, skew: float = 0.0, overscan_mm: float = 0.0) -> bytes:
    gray = scan_like(upright(spec), rotation=rotation, skew=skew, seed=spec.seed, overscan_mm=overscan_mm)
    return encode_jpeg(gray, spec.dpi)


@cache
def scan_gray(spec: DrawnPage, rotation: int = 0, skew: float = 0.0):
    return scan_like(upright(spec), rotation=rotation, skew=skew, seed=spec.seed)


@pytest.fixture(scope="session")
def jpeg_scan():
    """jpeg_scan(spec, rotation=0, skew=0.0) → bytes of a scanner-like JPEG of that page (cached)."""
    return scan_jpeg


@pytest.fixture(scope="session")
def gray_scan():
    return scan_gray
