"""Fixtures for the per-page tests: drawn scans of booklet pages (bench/drawn_pages.py)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.drawn_pages import DrawnPage, draw_upright, jpeg_bytes, scan_like  # noqa: E402
from paper.copy_model import load_model  # noqa: E402

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
    return jpeg_bytes(gray, spec.dpi)


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
