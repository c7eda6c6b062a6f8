"""A blank verso is blank whatever the scanner's backing and the sheet's skew.

Around a skewed sheet the scanner shows its backing plate: white on most document scanners,
gray or black on others (black helps their automatic cropping). The sheet is found first,
so that a dark backing is not taken for ink.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from scanner.pages import process_page
from scanner.sources import SourcePage
from testkit.samples.artist import Artist
from testkit.scan_files import encode_jpeg

BACKINGS = {"white": 250, "gray": 200, "black": 40}


def page_of(data: bytes, dpi: float | None = None) -> SourcePage:
    return SourcePage("scan.jpg#0", "0" * 64, 0, data, "image/jpeg", dpi)


@pytest.mark.parametrize("dpi", [200, 300])
@pytest.mark.parametrize("skew", [-5.0, 5.0])
@pytest.mark.parametrize("backing", sorted(BACKINGS))
def test_a_skewed_blank_verso_is_blank_whatever_the_backing(model, dpi, skew, backing):
    rng = random.Random(f"{dpi}/{skew}/{backing}")
    artist = Artist(model, dpi, rng, np.random.default_rng(dpi), backing=BACKINGS[backing])
    verso = artist.scan(np.full(artist.page_shape, 255, np.uint8), 0, skew)
    analysis = process_page(page_of(encode_jpeg(verso, dpi), dpi), model, "U3").analysis
    assert analysis.blank and analysis.copy_id is None, (dpi, skew, backing, analysis.ink_ratio)


@pytest.mark.parametrize("backing", ["gray", "black"])
def test_a_sheet_with_ink_on_a_dark_backing_is_not_blank(model, backing):
    """The backing is taken out, not the sheet's content: a word in the middle still counts."""
    dpi = 200
    artist = Artist(model, dpi, random.Random(3), np.random.default_rng(3), backing=BACKINGS[backing])
    sheet = np.full(artist.page_shape, 255, np.uint8)
    artist._text(sheet, "voir la suite page 3", 60, 150, 5.0, 40)
    scanned = artist.scan(sheet, 0, 4.0)
    analysis = process_page(page_of(encode_jpeg(scanned, dpi), dpi), model, "U3").analysis
    assert not analysis.blank


@pytest.mark.parametrize("backing", sorted(BACKINGS))
def test_a_dark_page_filling_the_scan_is_not_taken_for_backing(model, backing):
    """Dark content touching the image's border (a photocopy's black edges, a scanner's test
    pattern) is more than any backing around an A4 sheet: it stays ink."""
    dpi = 200
    artist = Artist(model, dpi, random.Random(5), np.random.default_rng(5), backing=BACKINGS[backing])
    sheet = np.full(artist.page_shape, 255, np.uint8)
    edge = artist.px(30)
    sheet[:edge, :] = sheet[-edge:, :] = sheet[:, :edge] = sheet[:, -edge:] = 30  # black photocopy edges
    for skew in (0.0, 4.0):
        scanned = artist.scan(sheet, 0, skew)
        analysis = process_page(page_of(encode_jpeg(scanned, dpi), dpi), model, "U3").analysis
        assert not analysis.blank, (backing, skew)
