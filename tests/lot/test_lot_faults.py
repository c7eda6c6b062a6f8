"""Faults under an import: a page whose image cannot be decoded, a disk that fills up.

A page that cannot be decoded goes to `unassigned` with its reason in plain words (never to a
copy, never as a blank verso). A full disk is not the page's fault: the import stops in plain
words, the page stays received and unanalysed, and the same command finishes the work.
"""

from __future__ import annotations

import pytest

from paper.copy_model import load_model
from scanner.lot import Lot
from scanner.pages import process_page
from scanner.sources import SourcePage
from testkit.lot import (
    DPI,
    PAPER,
    booklet,
    copy_ids,
    journal,
    report,
    run,
    sheet_jpeg,
    write_pdf,
    write_roll,
)
from testkit.scan_files import pdf_of_jpegs
from testkit.tmpfs import remount, tmpfs

A, B = copy_ids(2)


def damaged_part_way(data: bytes) -> bytes:
    """Header and the first part of the data intact, then garbage: the rest of the page is lost."""
    bad = bytearray(data)
    start = bad.index(b"\xff\xda") + len(bad) // 3
    for i in range(start, len(bad) - 2, 7):
        bad[i] = 0xFF
    return bytes(bad)


def bogus_tables(data: bytes) -> bytes:
    """Huffman tables that define more codes than exist: the decoder gives up at once."""
    bad = bytearray(data)
    dht = bad.index(b"\xff\xc4")
    bad[dht + 5 : dht + 21] = b"\xff" * 16
    return bytes(bad)


def test_process_page_says_a_damaged_jpeg_is_unreadable():
    good = sheet_jpeg(booklet(A, None)[1])
    for data, words in ((damaged_part_way(good), "damaged part-way"), (bogus_tables(good), "damaged")):
        page = SourcePage("scan.jpg#0", "0" * 64, 0, data, "image/jpeg", DPI)
        result = process_page(page, load_model(), PAPER)
        assert result.image is None and words in (result.unreadable or ""), result.unreadable
        assert not result.analysis.blank  # never taken for a blank verso


@pytest.mark.parametrize("workers", ["1", "2"])
def test_undecodable_pages_are_unassigned_with_their_reason(tmp_path, workers):
    sheets = booklet(A, "CAND001") + booklet(B, "CAND002")
    jpegs = [sheet_jpeg(s) for s in sheets]
    jpegs[5] = damaged_part_way(jpegs[5])  # page 2 of B
    jpegs[7] = bogus_tables(jpegs[7])  # page 4 of B
    (tmp_path / "scan.pdf").write_bytes(pdf_of_jpegs(jpegs, DPI))
    write_roll(tmp_path / "roll.csv", [("CAND001", True), ("CAND002", True)])
    lot = tmp_path / "lot"
    args = ["--paper", PAPER, "--roll", str(tmp_path / "roll.csv"), "--lot", str(lot), "--quiet"]
    run("scan", "import", str(tmp_path / "scan.pdf"), *args, "--workers", workers)
    rep = report(lot)
    unassigned = {u["source"]: u for u in rep["unassigned"]}
    assert set(unassigned) == {"scan.pdf#5", "scan.pdf#7"}
    assert all(u["kind"] == "unreadable" for u in unassigned.values())
    assert "damaged part-way" in unassigned["scan.pdf#5"]["reason"]
    assert "scan the page again" in unassigned["scan.pdf#7"]["reason"]
    copies = {c["copy"]: [p["number"] for p in c["pages"]] for c in rep["copies"]}
    assert copies == {A: [1, 2, 3, 4], B: [1, 3]}
    assert any("scan.pdf#5" in line for line in rep["blocking"])
    refused = run("scan", "seal", str(lot), check=False)
    assert refused.returncode == 2 and "scan.pdf#5" in refused.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_full_disk_under_the_images_stops_the_import_and_the_rerun_finishes(tmp_path, workers):
    pdf = write_pdf(tmp_path / "scan.pdf", booklet(A, "CAND001") + booklet(B, "CAND002"))
    write_roll(tmp_path / "roll.csv", [("CAND001", True), ("CAND002", True)])
    lot = tmp_path / "lot"
    roll = Lot.open_or_create(lot, paper=PAPER, centre=None, roll=[])  # the lot exists, its roll comes next
    args = ["scan", "import", str(pdf), "--paper", PAPER, "--roll", str(tmp_path / "roll.csv")]
    args += ["--lot", str(lot), "--quiet", "--workers", workers]
    # Originals and journal on a healthy disk; the corrector images on one that is full at once
    # (another file system: no hard link to the original, the bytes must be written).
    with tmpfs(roll.images_dir, "8k"):
        stopped = run(*args, check=False)
        assert stopped.returncode == 2, stopped.stdout + stopped.stderr
        assert "is full" in stopped.stderr and "Traceback" not in stopped.stdout + stopped.stderr
        assert len(journal(lot, "received")) == 8
        assert [e for e in journal(lot, "analysed") if e.get("error")] == []  # nothing recorded as lost
        waiting = [r for r in Lot.open(lot).state().pages.values() if r.analysis is None]
        assert len(waiting) >= 7 and all(r.error is None for r in waiting)
        remount(roll.images_dir, "64m")
        run(*args)
        rep = report(lot)
        assert rep["anomalies"] == [] and rep["blocking"] == [] and rep["unassigned"] == []
        assert {c["copy"]: [p["number"] for p in c["pages"]] for c in rep["copies"]} == {
            A: [1, 2, 3, 4],
            B: [1, 2, 3, 4],
        }
        assert all((lot / p["image"]).is_file() for c in rep["copies"] for p in c["pages"])
        run("scan", "seal", str(lot), "--centre", "0130040Y")
        assert run("scan", "verify", str(lot)).returncode == 0
