"""Per-page analysis on drawn scans: codes, rotation, skew, blank pages, labels, header ink."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.pages import corrector_image, process_page
from scanner.placement import assumed_placement, rotation_and_skew
from scanner.sources import SourcePage
from testkit.drawn_pages import DrawnPage
from testkit.scan_files import encode_jpeg

COPY_ID = "23456789Z"
REGISTRATION = "AB12345"


def source(data: bytes, media_type: str = "image/jpeg", dpi: float | None = 300.0) -> SourcePage:
    return SourcePage("scan.pdf#0", "0" * 64, 0, data, media_type, dpi)


def analyse(data: bytes, model, **kw):
    return process_page(source(data, **kw), model, "U3")


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotation_from_the_corner_codes(jpeg_scan, model, rotation):
    page = DrawnPage(copy_id=COPY_ID, number=3, seed=7)
    result = analyse(jpeg_scan(page, rotation, 0.0), model)
    a = result.analysis
    assert (a.paper, a.copy_id, a.number, a.rotation) == ("U3", COPY_ID, 3, rotation)
    assert a.codes_read == 4 and not a.codes_disagree and not a.blank
    # Not page 1: the corrector-facing image is the scanner's bytes, untouched.
    assert result.image == jpeg_scan(page, rotation, 0.0)


@pytest.mark.parametrize("skew", [-5.0, -2.5, -0.7, 0.4, 3.0, 5.0])
@pytest.mark.parametrize("rotation", [0, 180])
def test_skew_within_half_a_degree(jpeg_scan, model, skew, rotation):
    page = DrawnPage(copy_id=COPY_ID, number=2, seed=11)
    # The scan area is larger than the sheet: a sheet skewed 5° keeps its corner codes.
    a = analyse(jpeg_scan(page, rotation, skew, 10.0), model).analysis
    assert a.rotation == rotation and a.codes_read >= 2  # measured on the codes, not guessed
    # The sheet is turned `skew` degrees clockwise: the correction is the opposite.
    assert a.skew_degrees == pytest.approx(-skew, abs=0.5)


def test_skew_without_codes_from_the_writing(jpeg_scan, model):
    page = DrawnPage(copy_id=COPY_ID, codes=False, seed=5)
    a = analyse(jpeg_scan(page, 0, 2.0), model).analysis
    assert a.codes_read == 0 and a.number is None and not a.blank
    assert a.skew_degrees == pytest.approx(-2.0, abs=0.5)


def test_blank_verso_detected(jpeg_scan, model):
    for seed in range(4):
        page = DrawnPage(codes=False, writing=False, seed=seed)
        result = analyse(jpeg_scan(page, 0, 0.0), model)
        assert result.analysis.blank, seed
        assert result.image is None  # never corrector-facing on its own


def test_written_pages_are_never_blank(jpeg_scan, model):
    """0 false positives: annexes without codes, written pages, and pages with codes only."""
    pages = [DrawnPage(codes=False, writing=True, seed=s) for s in range(6)]
    pages += [DrawnPage(copy_id=COPY_ID, number=2, writing=False, seed=1)]
    pages += [DrawnPage(copy_id=COPY_ID, number=n, seed=s) for n in (2, 3) for s in range(3)]
    for page in pages:
        assert not analyse(jpeg_scan(page, 0, 0.0), model).analysis.blank, page


def test_one_short_word_is_not_blank(model):
    """The smallest answer: one word in the middle of a page without codes."""
    import cv2

    img = np.full((3508, 2480), 236, np.uint8)
    cv2.putText(img, "oui", (1100, 1700), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 60, 4, cv2.LINE_AA)
    assert not analyse(encode_jpeg(img), model).analysis.blank


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_label_read_on_page_one(jpeg_scan, model, rotation):
    page = DrawnPage(copy_id=COPY_ID, number=1, registration=REGISTRATION, seed=2)
    a = analyse(jpeg_scan(page, rotation, 1.5), model).analysis
    assert a.number == 1 and a.rotation == rotation
    assert a.label_registration == REGISTRATION and a.label_paper == "U3"
    assert not a.label_unreadable and not a.header_ink


def test_torn_label_is_reported_unreadable(jpeg_scan, model):
    page = DrawnPage(copy_id=COPY_ID, number=1, registration=REGISTRATION, label_torn=True, seed=3)
    a = analyse(jpeg_scan(page, 180, -1.0), model).analysis
    assert a.label_registration is None and a.label_unreadable


def test_no_label_is_not_unreadable(jpeg_scan, model):
    page = DrawnPage(copy_id=COPY_ID, number=1, registration=None, seed=4)
    a = analyse(jpeg_scan(page, 0, 0.0), model).analysis
    assert a.label_registration is None and not a.label_unreadable


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_header_ink_flagged(jpeg_scan, model, seed):
    page = DrawnPage(copy_id=COPY_ID, number=1, registration=REGISTRATION, header_scribble=True, seed=seed)
    plain = DrawnPage(copy_id=COPY_ID, number=1, registration=REGISTRATION, seed=seed)
    assert analyse(jpeg_scan(page, 90, 2.0), model).analysis.header_ink
    assert not analyse(jpeg_scan(plain, 90, 2.0), model).analysis.header_ink


def test_codes_of_two_pages_disagree(gray_scan, model):
    """A sheet made of two pages (a pasted corner): its codes name different pages."""
    one = gray_scan(DrawnPage(copy_id=COPY_ID, number=2, seed=1))
    other = gray_scan(DrawnPage(copy_id=COPY_ID, number=3, seed=1))
    mixed = one.copy()
    mixed[:, mixed.shape[1] // 2 :] = other[:, mixed.shape[1] // 2 :]
    result = analyse(encode_jpeg(mixed), model)
    assert result.analysis.codes_disagree
    assert result.analysis.number is None and result.image is None


def test_foreign_code_is_counted_not_trusted(model):
    import cv2
    import segno

    img = np.full((3508, 2480), 236, np.uint8)
    qr = segno.make("https://example.org/not-ours", error="m")
    matrix = np.array([list(r) for r in qr.matrix_iter(scale=6, border=0)], bool)
    img[100 : 100 + matrix.shape[0], 100 : 100 + matrix.shape[1]][matrix] = 10
    cv2.putText(img, "annexe", (900, 1700), cv2.FONT_HERSHEY_SIMPLEX, 3.0, 50, 5)
    a = analyse(encode_jpeg(img), model).analysis
    assert a.codes_rejected == 1 and a.codes_read == 0 and a.number is None


def test_undecodable_page_is_unreadable_not_an_exception(model):
    data = bytearray(encode_jpeg(np.full((600, 400), 200, np.uint8)))
    sos = data.index(b"\xff\xda")
    data[sos - 300 : sos] = b"\x00" * 300  # tables wiped
    result = analyse(bytes(data), model)
    assert result.unreadable and result.image is None


def test_png_page_one_masked_as_png(gray_scan, model):
    import cv2

    gray = gray_scan(DrawnPage(copy_id=COPY_ID, number=1, registration=REGISTRATION, seed=6))
    ok, png = cv2.imencode(".png", gray)
    result = analyse(png.tobytes(), model, media_type="image/png")
    assert result.analysis.label_registration == REGISTRATION
    assert result.media_type == "image/png"


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([0, 90, 180, 270]), st.floats(-20, 20))
def test_rotation_and_skew_split_round_trip(rotation, skew):
    from paper.copy_model import load_model

    placement = assumed_placement(2480, 3508, 300, rotation, skew, load_model())
    got_rotation, got_skew = rotation_and_skew(placement)
    assert got_rotation == rotation
    assert math.isclose(got_skew, skew, abs_tol=1e-6)


def test_corrector_image_after_operator_assignment(jpeg_scan, model):
    """A page 1 whose codes were unreadable: once assigned, its header is masked all the same."""
    import cv2

    page = DrawnPage(copy_id=COPY_ID, number=1, registration=REGISTRATION, codes=True, seed=8)
    data = jpeg_scan(page, 180, 0.0)
    result = analyse(data, model)
    blind = type(result.analysis)(**{**result.analysis.__dict__, "placement": None, "rotation": 0})
    image, media_type = corrector_image(source(data), blind, 1, 180, model)
    assert media_type == "image/jpeg"
    out = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_GRAYSCALE)
    # Turned upright, the header zone is white.
    upright = cv2.rotate(out, cv2.ROTATE_180)
    ppm = 300 / 25.4
    x, y, w, h = model.header
    zone = upright[int(y * ppm) : int((y + h) * ppm), int(x * ppm) : int((x + w) * ppm)]
    assert zone.min() >= 250
