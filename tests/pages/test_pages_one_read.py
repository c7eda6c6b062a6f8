"""One read of a JPEG's coefficients for both the analysis and the mask (scanner.coefficients,
scanner.dct, scanner.masking.mask_jpeg_after): same findings as decoding the page, same masked
bytes as the mask on its own, and the decoder whenever the read cannot be trusted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from massicot_core.roll import RollLine
from scanner import coefficients, pages
from scanner.coefficients import CoefficientError, PlaneLayout
from scanner.dct import CoefficientImage, natural_order
from scanner.decoding import AnalysisImage, _turbo, jpeg_header, reduction_for
from scanner.masking import header_polygon, mask_jpeg_after, mask_jpeg_lossless
from scanner.sources import SourcePage, iter_source_pages
from testkit.drawn_pages import DrawnPage
from testkit.samples.defects import DefectPlan
from testkit.samples.session import generate_session

COPY_ID = "23456789Z"


def damaged_part_way(data: bytes) -> bytes:
    """The entropy-coded data overwritten from its middle on: the page's second half is lost."""
    bad = bytearray(data)
    for i in range(bad.index(b"\xff\xda") + len(bad) // 2, len(bad) - 2, 5):
        bad[i] = 0xFF
    return bytes(bad)


def source(data: bytes, dpi: float | None = 300.0) -> SourcePage:
    return SourcePage("scan.pdf#0", "0" * 64, 0, data, "image/jpeg", dpi)


def on_plane(data: bytes, look):
    """Run `look(CoefficientImage)` on the page's luma plane inside one read; its result."""
    header = jpeg_header(data)
    dpi = 300.0
    seen = []

    def decide(blocks):
        img = CoefficientImage(
            blocks,
            natural_order(header.quant[0]),
            factor=reduction_for(dpi),
            width=header.width,
            height=header.height,
            dpi=dpi,
        )
        seen.append(look(img))
        img.close()
        return None

    assert mask_jpeg_after(data, decide) is None  # nothing to mask: nothing written
    return seen[0]


@pytest.fixture(scope="module")
def sample_pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one-read")
    roll = [RollLine(f"R{i:05d}", f"Candidat {i}", True) for i in range(6)]
    defects = DefectPlan(upside_down=2, skew_max_deg=2.0, blank_verso=1, annex=1, torn_label=1, header_ink=1)
    truth = generate_session(folder, "U3", roll, dpi=300, seed=11, defects=defects, formats=("pdf",))
    path = folder / truth.files["pdf"]
    return [p for p in iter_source_pages(path, truth.files["pdf"]) if isinstance(p, SourcePage)]


def test_one_read_finds_what_decoding_finds(sample_pages, model):
    ones = 0
    for page in sample_pages:
        read = pages._process_in_one_read(page, model, "U3")
        decoded = pages._process_decoded(page, model, "U3")
        assert read is not None, page.source  # a plain grayscale JPEG: never decoded instead
        a, b = read.analysis, decoded.analysis
        fields = ("copy_id", "number", "rotation", "blank", "written", "codes_disagree")
        fields += ("label_registration", "label_unreadable", "header_ink")
        assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}, page.source
        assert a.skew_degrees == pytest.approx(b.skew_degrees, abs=0.15), page.source
        if a.placement is not None:
            # The page's origin placed within 0.3 mm (300 dpi: 3.5 pixels) by both.
            assert np.allclose(np.array(a.placement)[[2, 5]], np.array(b.placement)[[2, 5]], atol=3.5)
        if a.number == 1:
            ones += 1
            assert read.image != page.data and read.media_type == "image/jpeg"
        else:
            assert read.image is (page.data if a.number is not None else None)
    assert ones == 6


def test_page_one_masked_in_the_read_is_the_mask_alone(jpeg_scan, model):
    data = jpeg_scan(DrawnPage(copy_id=COPY_ID, number=1, registration="AB12345", seed=31), 180, 1.2)
    result = pages.process_page(source(data), model, "U3")
    polygon = header_polygon(np.array(result.analysis.placement).reshape(2, 3), model)
    assert result.image == mask_jpeg_lossless(data, polygon)
    assert mask_jpeg_after(data, lambda blocks: polygon) == result.image


def test_coefficient_pixels_are_libjpegs_reduced_decode(jpeg_scan):
    data = jpeg_scan(DrawnPage(copy_id=COPY_ID, number=2, seed=32), 0, 0.7)
    header = jpeg_header(data)
    half = _turbo.decode(data, header.width, header.height, 2)
    decoded = AnalysisImage(gray=half, factor=2, width=header.width, height=header.height, dpi=300.0)

    def pixels(img):
        return img.gray.copy(), img.eighth()[0].copy(), img.crop(100, 200, 400, 300)

    gray, eighth, crop = on_plane(data, pixels)
    assert gray.shape == half.shape and crop.shape == (100, 300)
    assert np.abs(gray.astype(int) - half).mean() < 1.0
    assert np.array_equal(crop, gray[200:300, 100:400])
    # The ⅛ page: block means either way (DC coefficients, or an area resize of the decode).
    assert np.abs(eighth.astype(int) - decoded.eighth()[0]).mean() < 1.0
    assert (gray < 100).any()  # the page has ink: the comparison can fail


def test_a_damaged_jpeg_goes_to_the_decoder_which_says_so(jpeg_scan, model):
    data = damaged_part_way(jpeg_scan(DrawnPage(copy_id=COPY_ID, number=2, seed=33), 0, 0.0))
    assert pages._process_in_one_read(source(data), model, "U3") is None
    result = pages.process_page(source(data), model, "U3")
    assert result.image is None and "damaged part-way" in (result.unreadable or "")


def test_without_whole_planes_every_page_is_decoded(jpeg_scan, model, monkeypatch):
    data = jpeg_scan(DrawnPage(copy_id=COPY_ID, number=1, registration="AB12345", seed=34), 0, 0.3)
    expected = pages.process_page(source(data), model, "U3")
    monkeypatch.setattr(coefficients, "planes_are_whole", lambda: False)
    assert pages._process_in_one_read(source(data), model, "U3") is None
    result = pages.process_page(source(data), model, "U3")
    assert result.analysis.label_registration == expected.analysis.label_registration == "AB12345"
    assert result.image is not None and result.image != data  # masked all the same


def test_this_libjpeg_keeps_planes_whole():
    assert coefficients.planes_are_whole()


def test_a_row_out_of_place_is_refused():
    layout = PlaneLayout(columns=10, rows=5)
    layout.see(0, 10_000)
    layout.see(1, 10_000 + 10 * 128)
    layout.see(4, 10_000 + 4 * 10 * 128)
    with pytest.raises(CoefficientError):
        layout.see(3, 10_000 + 3 * 10 * 128 + 64)
    short = PlaneLayout(columns=10, rows=5)
    short.see(0, 10_000)
    with pytest.raises(CoefficientError):
        short.see(1, 10_000 + 9 * 128)  # rows overlapping: not one row after the other


def test_codes_not_read_at_the_first_look_are_read_at_the_analysis_resolution(jpeg_scan, model, monkeypatch):
    data = jpeg_scan(DrawnPage(copy_id=COPY_ID, number=3, seed=35), 90, -1.0)

    class Blind:
        """A first look that sees white paper only: as if the codes were too small for 75 dpi."""

        def __init__(self, img):
            self.factor, self.pixels_per_mm = img.factor * 2, img.pixels_per_mm / 2
            self.shape = tuple(-(-side // 2) for side in img.shape)

        def crop(self, x0, y0, x1, y1):
            return np.full((max(0, y1 - y0), max(0, x1 - x0)), 255, np.uint8)

    looks = []
    monkeypatch.setattr(CoefficientImage, "coarser", lambda img: looks.append(1) or Blind(img))
    a = pages.process_page(source(data), model, "U3").analysis
    assert looks and (a.number, a.rotation, a.codes_read) == (3, 90, 4)


def test_an_error_in_the_analysis_is_not_swallowed(jpeg_scan):
    data = jpeg_scan(DrawnPage(copy_id=COPY_ID, number=2, seed=36), 0, 0.0)

    def broken(blocks):
        raise ZeroDivisionError("a bug in the analysis")

    with pytest.raises(ZeroDivisionError):
        mask_jpeg_after(data, broken)


def test_the_plane_cannot_be_read_once_closed(jpeg_scan):
    data = jpeg_scan(DrawnPage(copy_id=COPY_ID, number=2, seed=37), 0, 0.0)
    kept = on_plane(data, lambda img: img)
    with pytest.raises(RuntimeError, match="closed"):
        kept.crop(0, 0, 10, 10)


@pytest.mark.parametrize(
    "params",
    [[cv2.IMWRITE_JPEG_PROGRESSIVE, 1], [cv2.IMWRITE_JPEG_RST_INTERVAL, 4], [cv2.IMWRITE_JPEG_QUALITY, 95]],
    ids=["progressive", "restart-markers", "quality-95"],
)
def test_other_jpeg_encodings_are_read_in_one_read_too(gray_scan, model, params):
    gray = gray_scan(DrawnPage(copy_id=COPY_ID, number=1, registration="AB12345", seed=38), 180, -0.8)
    ok, encoded = cv2.imencode(".jpg", gray, params)
    data = encoded.tobytes()
    result = pages._process_in_one_read(source(data), model, "U3")
    assert result is not None
    a = result.analysis
    assert (a.number, a.rotation, a.label_registration) == (1, 180, "AB12345")
    polygon = header_polygon(np.array(a.placement).reshape(2, 3), model)
    assert result.image == mask_jpeg_lossless(data, polygon)


@pytest.mark.parametrize(
    "sampling",
    [cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444],
    ids=["420", "444"],
)
def test_a_colour_scan_is_read_and_masked_in_one_read(gray_scan, model, sampling):
    gray = gray_scan(DrawnPage(copy_id=COPY_ID, number=1, registration="AB12345", seed=39), 0, 1.1)
    # Cream paper (blue and green a little under red): the chroma planes carry the page too, so
    # leaving them unmasked would show.
    cream = np.dstack([gray * 0.82, gray * 0.95, gray.astype(np.float64)]).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", cream, [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling])
    data = encoded.tobytes()
    assert jpeg_header(data).components == 3
    result = pages._process_in_one_read(source(data), model, "U3")
    assert result is not None
    a = result.analysis
    assert (a.number, a.rotation, a.label_registration, a.codes_read) == (1, 0, "AB12345", 4)
    polygon = header_polygon(np.array(a.placement).reshape(2, 3), model)
    assert result.image == mask_jpeg_lossless(data, polygon)  # chroma blocks whitened too
    decoded = pages._process_decoded(source(data), model, "U3").analysis
    assert (decoded.number, decoded.label_registration) == (a.number, a.label_registration)


def test_an_rgb_jpeg_is_decoded_not_read_as_coefficients(gray_scan, model):
    gray = gray_scan(DrawnPage(copy_id=COPY_ID, number=2, seed=40), 0, 0.0)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    ycc = encoded.tobytes()
    # Its JFIF marker replaced by an Adobe marker saying "no colour transform": libjpeg reads the
    # three planes as R, G, B, and the first plane is then not the page's brightness.
    jfif_at = ycc.index(b"\xff\xe0")
    length = int.from_bytes(ycc[jfif_at + 2 : jfif_at + 4], "big")
    adobe = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00"
    rgb = ycc[:jfif_at] + adobe + ycc[jfif_at + 2 + length :]
    assert jpeg_header(ycc).luma_first and not jpeg_header(rgb).luma_first
    assert pages._process_in_one_read(source(ycc), model, "U3") is not None
    assert pages._process_in_one_read(source(rgb), model, "U3") is None
    assert pages.process_page(source(rgb), model, "U3").analysis.width == gray.shape[1]  # decoded
