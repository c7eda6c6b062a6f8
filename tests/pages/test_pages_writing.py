"""Writing in the answer zone: measured on the ⅛ image, printed rules left out.

The measure is checked on the sample generator's pages (testkit.samples) at 200 and 300 dpi
with the evening's defects; the figures are printed (run with -s to see them).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from massicot_core.roll import RollLine
from scanner.pages import WRITING_MIN_MM2, process_page
from scanner.sources import SourcePage, iter_source_pages
from testkit.drawn_pages import DrawnPage, draw_upright, scan_like
from testkit.samples.artist import Artist
from testkit.samples.defects import DefectPlan
from testkit.samples.session import generate_session
from testkit.scan_files import encode_jpeg

BACKINGS = {"white": 250, "gray": 200, "black": 40}


def page_of(data: bytes, dpi: float | None = None) -> SourcePage:
    return SourcePage("scan.jpg#0", "0" * 64, 0, data, "image/jpeg", dpi)


def test_printed_rules_are_not_writing_and_one_short_word_is(model):
    empty = DrawnPage(copy_id="23456789Z", number=2, writing=False, dpi=200, seed=4)
    upright = draw_upright(empty, model)
    artist = Artist(model, 200, random.Random(1), np.random.default_rng(1))
    worded = upright.copy()
    x, y, _, _ = model.answer
    artist._text(worded, "oui", x + 40, y + 50, 4.5, 70)  # a light blue pen, one word
    for image, want in ((upright, False), (worded, True)):
        for skew in (0.0, 3.0):
            data = encode_jpeg(scan_like(image, rotation=180, skew=skew, seed=2), 200)
            a = process_page(page_of(data, 200), model, "U3").analysis
            assert a.number == 2 and a.written is want, (want, skew, a.writing_mm2)


def test_pages_without_a_code_are_not_measured(model):
    annex = DrawnPage(codes=False, writing=True, dpi=200, seed=1)
    data = encode_jpeg(scan_like(draw_upright(annex, model), seed=1), 200)
    a = process_page(page_of(data, 200), model, "U3").analysis
    assert a.copy_id is None and a.writing_mm2 is None and a.written is None


EVENING = DefectPlan(
    upside_down=3,
    skew_max_deg=5.0,
    blank_verso=3,
    annex=1,
    torn_label=1,
    no_label=1,
    blank_copy=2,
    header_ink=2,
    duplicate_page=1,
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dpi", "seed", "backing"),
    [(200, 1, "white"), (300, 2, "gray"), (200, 3, "black"), (300, 4, "black")],
)
def test_writing_measured_on_generated_pages(tmp_path, model, dpi, seed, backing):
    roll = [RollLine(f"R{i:05d}", f"Candidat {i}", i not in (2, 5)) for i in range(10)]
    truth = generate_session(
        tmp_path, "U3", roll, dpi=dpi, seed=seed, defects=EVENING, formats=("pdf",), backing=BACKINGS[backing]
    )
    pages = {p.source: p for p in iter_source_pages(tmp_path / "scan.pdf", "scan.pdf")}
    status = {c.copy_id: c.expected_status for c in truth.copies}
    written, empty, versos = [], [], []
    empty_pages: dict[str, list[bool]] = {}
    for expected in truth.pages:
        a = process_page(pages[expected.sources[0]], model, "U3").analysis
        if expected.defect == "blank_verso":
            versos.append(a.blank)
            continue
        if expected.page is None:  # an annex: no code, not measured
            assert a.written is None
            continue
        assert a.writing_mm2 is not None, expected
        (written if expected.written else empty).append(a.writing_mm2)
        if status[expected.copy_id] in ("blank", "absent"):
            empty_pages.setdefault(expected.copy_id, []).append(a.written is False)
    blank_or_absent = [c for c, s in status.items() if s in ("blank", "absent")]
    found = sum(all(empty_pages[c]) for c in blank_or_absent)
    print(
        f"\nwriting at {dpi} dpi, seed {seed}, {backing} backing: {len(written)} written pages, "
        f"least {min(written):.0f} mm²; {len(empty)} pages with nothing written, most {max(empty):.1f} mm² "
        f"(threshold {WRITING_MIN_MM2} mm²); blank or ABSENT copies found {found}/{len(blank_or_absent)}; "
        f"blank versos {sum(versos)}/{len(versos)}"
    )
    assert min(written) >= WRITING_MIN_MM2  # no written page called empty
    assert max(empty) < WRITING_MIN_MM2
    assert found == len(blank_or_absent) == 4  # 2 blank copies, 2 absent candidates
    assert versos == [True] * 3


@pytest.mark.parametrize(("dpi", "seed"), [(200, 5), (300, 6)])
def test_written_blank_and_faint_pencil_pages_each_say_so(tmp_path, model, dpi, seed):
    """Every numbered page's `written` against the generator's truth: a pen, nothing, or two
    short lines of a light, thin pencil (lost at ⅛, found by the second look)."""
    roll = [RollLine(f"R{i:05d}", f"Candidat {i}", i != 3) for i in range(6)]
    plan = DefectPlan(skew_max_deg=4.0, blank_copy=1, faint_pencil=2)
    truth = generate_session(tmp_path, "U3", roll, dpi=dpi, seed=seed, defects=plan, formats=("pdf",))
    pages = {p.source: p for p in iter_source_pages(tmp_path / "scan.pdf", "scan.pdf")}
    pencil = {c.copy_id for c in truth.copies if "faint_pencil" in c.defects}
    seen = {"written": 0, "empty": 0, "pencil": 0}
    for expected in truth.pages:
        a = process_page(pages[expected.sources[0]], model, "U3").analysis
        assert a.written is expected.written, (expected, a.writing_mm2)
        if expected.copy_id in pencil:
            seen["pencil"] += 1
        seen["written" if expected.written else "empty"] += 1
    assert seen["pencil"] == 8 and seen["empty"] == 8  # 2 pencil copies, 1 blank + 1 absent copy
