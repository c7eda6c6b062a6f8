"""The per-page analysis against the sample-scan generator's truth (testkit.samples)."""

from __future__ import annotations

import pytest

from massicot_core.roll import RollLine
from scanner.pages import process_page
from scanner.sources import SourcePage, iter_source_pages
from testkit.samples.defects import DefectPlan
from testkit.samples.session import generate_session

DEFECTS = DefectPlan(
    upside_down=3,
    skew_max_deg=2.0,
    blank_verso=3,
    annex=2,
    torn_label=2,
    no_label=1,
    blank_copy=1,
    header_ink=2,
)


@pytest.mark.slow
@pytest.mark.parametrize(("dpi", "fmt"), [(300, "pdf"), (200, "tiff")])
def test_every_page_as_the_truth_says(tmp_path, model, dpi, fmt):
    roll = [RollLine(f"R{i:05d}", f"Candidat {i}", True) for i in range(16)]
    truth = generate_session(tmp_path, "U3", roll, dpi=dpi, seed=3, defects=DEFECTS, formats=(fmt,))
    path = tmp_path / truth.files[fmt]
    pages = {p.source: p for p in iter_source_pages(path, truth.files[fmt])}
    assert all(isinstance(p, SourcePage) for p in pages.values())
    copies = {c.copy_id: c for c in truth.copies}
    header_ink = {c.copy_id for c in truth.copies if "header_ink" in c.defects}
    checked_labels = 0
    for expected in truth.pages:
        (source,) = [s for s in expected.sources if s in pages]
        result = process_page(pages[source], model, "U3")
        a = result.analysis
        seen = (a.copy_id, a.number, a.blank)
        assert seen == (expected.copy_id if expected.page else None, expected.page, expected.blank), expected
        if expected.page is None:
            assert result.image is None
            continue
        assert a.rotation == expected.rotation, expected
        assert a.skew_degrees == pytest.approx(expected.skew, abs=0.5), expected
        if expected.page == 1:
            copy = copies[expected.copy_id]
            assert a.label_registration == copy.label_registration, expected
            assert a.label_unreadable == (copy.label == "torn"), expected
            assert a.header_ink == (expected.copy_id in header_ink), expected
            checked_labels += 1
    assert checked_labels >= 14
