"""The sample-scan generator: its scans say what its truth says, read by the project's own reader."""

from __future__ import annotations

import io
import math
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest
from PIL import Image

from massicot_core.errors import UserError
from massicot_core.identifiers import CORNERS
from paper.copy_model import load_model
from scanner.codes import read_codes, read_label, read_page_codes
from testkit.samples.defects import DefectPlan
from testkit.samples.session import generate_session
from testkit.samples.truth import Truth
from testkit.scan_files import encode_jpeg

MODEL = load_model()


def load_page(out: Path, source: str) -> np.ndarray:
    name, _, _ = source.partition("#")
    return cv2.imread(str(out / name), cv2.IMREAD_GRAYSCALE)


def jpeg_source(page) -> str:
    return next(s for s in page.sources if s.startswith("jpeg/"))


def label_codes(gray: np.ndarray) -> list:
    # The whole page, trying hard: a torn or missing label must stay unreadable even then.
    return [c for c in read_codes(gray, try_harder=True) if c.label_code is not None]


def test_clean_pages_every_code_reads_and_matches_the_truth(clean_session):
    out, truth = clean_session
    ppm = truth.dpi / 25.4
    assert len(truth.pages) == 12 * 4
    for page in truth.pages:
        codes = read_page_codes(load_page(out, jpeg_source(page)), ppm, MODEL)
        read = {(c.page_code.paper, c.page_code.copy_id, c.page_code.page, c.page_code.corner) for c in codes}
        assert read == {(page.paper, page.copy_id, page.page, corner) for corner in CORNERS}, page


def test_clean_labels_read_in_the_label_box_and_match_the_truth(clean_session):
    out, truth = clean_session
    ppm = truth.dpi / 25.4
    by_copy = {c.copy_id: c for c in truth.copies}
    firsts = [p for p in truth.pages if p.page == 1]
    assert len(firsts) == 12
    for page in firsts:
        copy = by_copy[page.copy_id]
        found = read_label(load_page(out, jpeg_source(page)), ppm, MODEL.label)
        registrations = [c.label_code.registration for c in found if c.label_code]
        # absent candidates too: the centre sticks their label on a booklet marked ABSENT
        assert registrations == [copy.candidate] == [copy.label_registration]


def test_clean_session_truth_follows_the_roll(clean_session):
    _, truth = clean_session
    statuses = {c.candidate: c.expected_status for c in truth.copies}
    assert statuses["A0000003"] == statuses["A0000008"] == "absent"
    assert sum(s == "present" for s in statuses.values()) == 10
    assert all(p.rotation == 0 and p.skew == 0 and p.defect is None for p in truth.pages)
    absent_ids = {c.copy_id for c in truth.copies if c.expected_status == "absent"}
    assert all(p.written == (p.copy_id not in absent_ids) for p in truth.pages)


def test_jpeg_is_one_component_grayscale_with_the_dpi_in_its_header(clean_session):
    out, truth = clean_session
    data = (out / jpeg_source(truth.pages[0]).partition("#")[0]).read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.mode == "L"
    assert image.info["dpi"] == (200, 200)
    assert image.size == (round(210 / 25.4 * 200), round(297 / 25.4 * 200))
    # A scanned page carries paper grain: not the flat white of a rendered PDF.
    gray = np.asarray(image)
    assert 215 < np.median(gray) < 250 and gray[400:600, 1200:1400].std() > 0.8


def test_pdf_embeds_each_jpeg_as_it_is_and_tiff_is_group4(clean_session):
    out, truth = clean_session
    pdf = pikepdf.open(out / "scan.pdf")
    assert len(pdf.pages) == len(truth.pages)
    for page in truth.pages[:6]:
        index = int(next(s for s in page.sources if s.startswith("scan.pdf#")).partition("#")[2])
        image = next(iter(pdf.pages[index].Resources.XObject.values()))
        assert image.Filter == pikepdf.Name.DCTDecode
        assert image.read_raw_bytes() == (out / jpeg_source(page).partition("#")[0]).read_bytes()
    tiff = Image.open(out / "scan.tif")
    assert tiff.n_frames == len(truth.pages)
    tiff.seek(5)
    assert tiff.mode == "1" and tiff.info["compression"] == "group4"
    codes = read_page_codes(np.asarray(tiff.convert("L")), truth.dpi / 25.4, MODEL)
    assert {c.page_code.page for c in codes} == {truth.pages[5].page}


def test_truth_json_round_trips(clean_session):
    out, truth = clean_session
    assert Truth.load(out / "truth.json") == truth


def test_same_seed_same_scans_other_seed_other_scans(tmp_path: Path):
    from massicot_core.roll import RollLine

    roll = [RollLine("A1234567", "Dupont Jeanne", True)]
    a = generate_session(tmp_path / "a", "U3", roll, dpi=200, seed=3, pages=2, formats=("jpeg",))
    b = generate_session(tmp_path / "b", "U3", roll, dpi=200, seed=3, pages=2, formats=("jpeg",))
    c = generate_session(tmp_path / "c", "U3", roll, dpi=200, seed=4, pages=2, formats=("jpeg",))
    assert a.pages == b.pages and a.copies == b.copies
    assert (tmp_path / "a/jpeg/0001.jpg").read_bytes() == (tmp_path / "b/jpeg/0001.jpg").read_bytes()
    assert a.copies[0].copy_id != c.copies[0].copy_id


def test_given_copy_ids_are_handed_out_in_roll_order(tmp_path: Path):
    from massicot_core.roll import RollLine

    roll = [RollLine("A1234567", "Dupont Jeanne", True), RollLine("B7654321", "Martin Éric", False)]
    ids = ["84G7ZWYR3", "D6Z1RV0WD"]
    truth = generate_session(tmp_path, "U3", roll, ids, dpi=200, pages=1, formats=("jpeg",))
    assert [(c.copy_id, c.candidate) for c in truth.copies] == list(
        zip(ids, ["A1234567", "B7654321"], strict=True)
    )


# ---------------------------------------------------------------- the evening's defects


def test_every_requested_defect_is_in_the_truth(evening_session):
    _, truth = evening_session
    page_defects = [p.defect for p in truth.pages]
    assert page_defects.count("upside_down") == 2
    assert page_defects.count("blank_verso") == 2
    assert page_defects.count("duplicate_page") == 1
    assert page_defects.count("annex") == 1
    copy_defects = [d for c in truth.copies for d in c.defects]
    for name in (
        "missing_page",
        "duplicate_page",
        "foreign_copy",
        "annex",
        "torn_label",
        "no_label",
        "blank_copy",
        "missing_copy",
        "duplicate_copy",
        "header_ink",
    ):
        assert copy_defects.count(name) == 1, name
    assert page_defects.count("duplicate_copy") == 4 and page_defects.count("header_ink") == 1
    assert all(abs(p.skew) <= 5 for p in truth.pages) and max(abs(p.skew) for p in truth.pages) > 1


def test_page_counts_add_up_with_missing_and_duplicated_pages(evening_session):
    _, truth = evening_session
    for copy in truth.copies:
        numbers = sorted(p.page for p in truth.pages if p.copy_id == copy.copy_id and p.page is not None)
        expected = sorted(
            [n for n in range(1, copy.pages + 1) if n not in copy.missing_pages] + copy.duplicated_pages
        )
        assert numbers == expected, copy


def measured_skew(codes) -> float:
    """The sheet's counter-clockwise angle, from two codes against where the model prints them."""
    at = {c.page_code.corner: c.centre for c in codes}
    a, b = sorted(at)[:2]
    (ax, ay), (bx, by) = MODEL.code_centre(a), MODEL.code_centre(b)
    ex, ey = bx - ax, by - ay
    vx, vy = at[b][0] - at[a][0], at[b][1] - at[a][1]
    return math.degrees(math.atan2(-(ex * vy - ey * vx), ex * vx + ey * vy))


def test_printed_pages_read_with_their_rotation_and_skew(evening_session):
    out, truth = evening_session
    ppm = truth.dpi / 25.4
    for page in [p for p in truth.pages if p.page is not None]:
        gray = load_page(out, jpeg_source(page))
        codes = read_page_codes(gray, ppm, MODEL)
        assert {(c.page_code.copy_id, c.page_code.page) for c in codes} == {(page.copy_id, page.page)}, page
        # Up to ±5° of skew, the reader's 40 mm corner zones hold at least two of the four codes.
        assert len(codes) >= 2, page
        assert {c.page_code.paper for c in codes} == {page.paper}
        if page.rotation == 180:
            # Upside down: each code sits in the image corner opposite to the one it names.
            for code in codes:
                right, bottom = code.page_code.corner[1] == "R", code.page_code.corner[0] == "B"
                assert (code.centre[0] > gray.shape[1] / 2) != right, code
                assert (code.centre[1] > gray.shape[0] / 2) != bottom, code
        else:
            assert measured_skew(codes) == pytest.approx(page.skew, abs=0.35), page


def test_foreign_copy_carries_another_paper(evening_session):
    _, truth = evening_session
    foreign = [c for c in truth.copies if c.expected_status == "foreign"]
    assert len(foreign) == 1 and foreign[0].paper != "U3"
    assert foreign[0].candidate not in {c.candidate for c in truth.copies if c.paper == "U3"}
    assert {p.paper for p in truth.pages if p.copy_id == foreign[0].copy_id and p.page} == {foreign[0].paper}


def test_annex_and_blank_verso_pages_have_no_code(evening_session):
    out, truth = evening_session
    ppm = truth.dpi / 25.4
    for page in [p for p in truth.pages if p.defect in ("annex", "blank_verso")]:
        gray = load_page(out, jpeg_source(page))
        assert read_codes(gray, try_harder=True) == [], page
        assert read_page_codes(gray, ppm, MODEL) == []
        if page.defect == "blank_verso":
            assert page.blank and not page.written and gray.min() > 150
        else:
            assert page.written and not page.blank and gray.min() < 100


def test_torn_and_missing_labels_do_not_read_and_good_ones_do(evening_session):
    out, truth = evening_session
    by_copy = {c.copy_id: c for c in truth.copies}
    seen = set()
    for page in [p for p in truth.pages if p.page == 1]:
        copy = by_copy[page.copy_id]
        registrations = [c.label_code.registration for c in label_codes(load_page(out, jpeg_source(page)))]
        if copy.label == "ok":
            assert registrations == [copy.candidate], copy
        else:
            assert registrations == [] and copy.label_registration is None, copy
        seen.add(copy.label)
    assert seen == {"ok", "torn", "none"}


def test_blank_copy_has_no_writing_and_absent_copy_has_its_label(evening_session):
    _, truth = evening_session
    blank = next(c for c in truth.copies if c.expected_status == "blank")
    assert blank.label == "ok"
    assert not any(p.written for p in truth.pages if p.copy_id == blank.copy_id and p.defect != "annex")
    absent = [c for c in truth.copies if c.expected_status == "absent"]
    assert {c.candidate for c in absent} == {"A0000003", "A0000008"}
    assert all(c.label == "ok" and c.label_registration == c.candidate for c in absent)
    assert not any(p.written for p in truth.pages if p.copy_id in {c.copy_id for c in absent})


def test_absent_copy_says_absent_in_the_name_boxes_not_in_the_answers(clean_session):
    """ABSENT is written by the centre across the name boxes; the answer areas stay empty."""
    out, truth = clean_session
    ppm = truth.dpi / 25.4
    boxes = MODEL.identity_boxes

    def dark(page, box) -> float:
        x, y, w, h = box
        gray = load_page(out, jpeg_source(page))
        return float(
            (gray[int(y * ppm) : int((y + h) * ppm), int(x * ppm) : int((x + w) * ppm)] < 100).mean()
        )

    names = (12.0, boxes["surname"][1], boxes["surname"][2], 24.0)
    firsts = {p.copy_id: p for p in truth.pages if p.page == 1}
    by_status: dict[str, list[tuple[float, float]]] = {}
    for copy in truth.copies:
        page = firsts[copy.copy_id]
        by_status.setdefault(copy.expected_status, []).append(
            (dark(page, names), dark(page, MODEL.answer_first))
        )
    absent, present = by_status["absent"], by_status["present"]
    assert len(absent) == 2
    # bold capitals across both name boxes: far more ink than a name written in them
    assert min(a for a, _ in absent) > 3 * max(a for a, _ in present)
    assert max(b for _, b in absent) == 0.0 < min(b for _, b in present)


def test_bad_arguments_are_refused_before_anything_is_written(tmp_path: Path):
    from massicot_core.roll import RollLine

    roll = [RollLine("A1234567", "Dupont Jeanne", True)]
    with pytest.raises(UserError, match="format"):
        generate_session(tmp_path / "x", "U3", roll, formats=("gif",))
    with pytest.raises(UserError, match="dpi"):
        generate_session(tmp_path / "x", "U3", roll, dpi=123)
    with pytest.raises(UserError, match="paper code"):
        generate_session(tmp_path / "x", "u3 bis", roll)
    with pytest.raises(UserError, match="print more booklets"):
        generate_session(tmp_path / "x", "U3", [roll[0], RollLine("B7654321", "B", True)], ["84G7ZWYR3"])
    with pytest.raises(UserError, match="no candidate"):
        generate_session(tmp_path / "x", "U3", [])
    assert not (tmp_path / "x").exists()


def test_defect_plan_parsing():
    assert DefectPlan.parse("none") == DefectPlan()
    assert DefectPlan.parse("all") == DefectPlan.all()
    plan = DefectPlan.parse("upside_down=3, skew=2.5,torn_label")
    assert (plan.upside_down, plan.skew_max_deg, plan.torn_label, plan.annex) == (3, 2.5, 1, 0)
    with pytest.raises(UserError, match="unknown defect"):
        DefectPlan.parse("jam")
    with pytest.raises(UserError, match="not a number"):
        DefectPlan.parse("annex=two")


def test_encode_jpeg_writes_the_resolution():
    data = encode_jpeg(np.full((50, 40), 200, np.uint8), 300)
    assert Image.open(io.BytesIO(data)).info["dpi"] == (300, 300)


def upright(gray: np.ndarray, page) -> np.ndarray:
    """Undo what the truth says was done to the sheet: back to an upright A4 image."""
    if page.rotation == 180:
        gray = cv2.rotate(gray, cv2.ROTATE_180)
    ppm = 200 / 25.4
    width, height = round(210 * ppm), round(297 * ppm)
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -page.skew, 1.0)
    m[0, 2] -= (w - width) / 2
    m[1, 2] -= (h - height) / 2
    return cv2.warpAffine(gray, m, (width, height), borderValue=255)


def dark_share(gray: np.ndarray, box_mm) -> float:
    ppm = 200 / 25.4
    x, y, w, h = (round(v * ppm) for v in box_mm)
    return float((gray[y : y + h, x : x + w] < 110).mean())


def test_header_ink_is_written_in_the_header_outside_the_identity_boxes(evening_session):
    out, truth = evening_session
    hx, hy, hw, hh = MODEL.header
    strip = (hx + 2, hy + hh - 7, hw - 4, 6)  # below the identity boxes and the label box
    inked = {c.copy_id for c in truth.copies if "header_ink" in c.defects}
    for page in [p for p in truth.pages if p.page == 1]:
        share = dark_share(upright(load_page(out, jpeg_source(page)), page), strip)
        if page.copy_id in inked:
            assert share > 0.01, page
        else:
            assert share < 0.002, page


def test_a_sheet_scanned_twice_shows_the_same_writing(evening_session):
    out, truth = evening_session
    twice = [p for p in truth.pages if p.defect in ("duplicate_page", "duplicate_copy")]
    assert len(twice) == 5
    for again in twice:
        first = next(p for p in truth.pages if (p.copy_id, p.page) == (again.copy_id, again.page))
        assert first.position < again.position
        a = upright(load_page(out, jpeg_source(first)), first)
        b = upright(load_page(out, jpeg_source(again)), again)
        area = MODEL.answer_first if again.page == 1 else MODEL.answer
        assert dark_share(a, area) == pytest.approx(dark_share(b, area), rel=0.1), again
        assert dark_share(a, area) > 0.005


def test_missing_copy_has_no_page_and_duplicated_copy_comes_back_later(evening_session):
    _, truth = evening_session
    missing = next(c for c in truth.copies if "missing_copy" in c.defects)
    assert missing.expected_status == "present" and missing.missing_pages == [1, 2, 3, 4]
    assert not any(p.copy_id == missing.copy_id and p.page for p in truth.pages)
    twice = next(c for c in truth.copies if "duplicate_copy" in c.defects)
    assert twice.duplicated_pages == [1, 2, 3, 4]
    positions = [p.position for p in truth.pages if p.copy_id == twice.copy_id and p.page == 1]
    assert len(positions) == 2 and positions[1] > positions[0] + 3
