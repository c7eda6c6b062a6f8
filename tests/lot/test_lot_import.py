"""`massicot scan import / report / resolve` end to end on drawn scans (real PDF files, real analysis)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from testkit.lot import PAPER, Sheet, booklet, copy_ids, kinds, report, run, sheet_jpeg, write_pdf, write_roll

A, B, C = copy_ids(3)


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> Path:
    """Two scanner exports with the defects of a real evening, plus an empty file."""
    root = tmp_path_factory.mktemp("scans")
    folder = root / "in"
    folder.mkdir()
    first = booklet(A, "CAND001")
    # batch1: copy A pages 1-2, a blank verso, pages 3-4, then an annex (no code)
    write_pdf(
        folder / "batch1.pdf", first[:2] + [Sheet(None, writing=False)] + first[2:] + [Sheet(None, seed=5)]
    )
    # batch2: copy B fed upside down for two sheets, its page 3 twice, its page 4 lost,
    # then a page of another paper
    write_pdf(
        folder / "batch2.pdf",
        [
            Sheet(B, 1, "CAND002", rotation=180, seed=3),
            Sheet(B, 2, rotation=180),
            Sheet(B, 3),
            Sheet(B, 3, seed=9),
            Sheet(C, 1, "CAND009", paper="U41"),
        ],
    )
    (folder / "empty.jpg").write_bytes(b"")
    write_roll(
        root / "roll.csv", [("CAND001", True), ("CAND002", True), ("CAND003", False), ("CAND004", True)]
    )
    return root


def do_import(scans: Path, lot: Path, *inputs: str, workers: int = 1) -> None:
    paths = [str(scans / i) for i in inputs] or [str(scans / "in")]
    run(
        "scan",
        "import",
        *paths,
        "--paper",
        PAPER,
        "--roll",
        str(scans / "roll.csv"),
        "--lot",
        str(lot),
        "--centre",
        "0130040Y",
        "--workers",
        str(workers),
        "--quiet",
    )


def journal_lines(lot: Path) -> int:
    return len((lot / "journal.jsonl").read_bytes().splitlines())


def copies(rep: dict) -> dict:
    return {c["copy"]: c for c in rep["copies"]}


def comparable(rep: dict) -> dict:
    """Copies recorded without a booklet get ids keyed by each lot's own secret: compare by candidate."""
    rep = json.loads(json.dumps(rep))
    for copy in rep["copies"]:
        if not copy["pages"]:
            copy["copy"] = f"recorded:{copy['candidate']}"
    rep["copies"].sort(key=lambda c: c["copy"])
    return rep


def test_import_groups_orders_turns_and_reports_every_defect(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot, workers=2)
    rep = report(lot)
    assert rep["paper"] == PAPER
    found = copies(rep)
    assert [p["number"] for p in found[A]["pages"]] == [1, 2, 3, 4, None]
    assert [p["source"] for p in found[A]["pages"]] == [f"in/batch1.pdf#{i}" for i in (0, 1, 3, 4, 5)]
    assert found[A]["candidate"] == "CAND001" and found[A]["status"] == "ok"
    assert [p["rotation"] for p in found[B]["pages"]] == [180, 180, 0]
    assert found[B]["status"] == "incomplete" and found[B]["missing"] == [4]
    absent = [c for c in rep["copies"] if c["status"] == "absent"]
    assert [(c["candidate"], c["pages"]) for c in absent] == [("CAND003", [])]
    assert C not in found  # the foreign page is in no copy
    assert [(a["kind"], a["copy"], a["candidate"], a["source"]) for a in rep["anomalies"]] == [
        ("missing_page", B, "CAND002", None),
        ("duplicate_page", B, None, "in/batch2.pdf#3"),
        ("uncoded_page", A, None, "in/batch1.pdf#5"),
        ("foreign_page", C, None, "in/batch2.pdf#4"),
        ("missing_copy", None, "CAND004", None),
    ]
    assert all(a["message"] and a["action"] for a in rep["anomalies"])
    assert {u["source"]: u["kind"] for u in rep["unassigned"]} == {
        "in/batch1.pdf#2": "blank_verso",
        "in/batch2.pdf#3": "set_aside",
        "in/batch2.pdf#4": "set_aside",
        "in/empty.jpg#0": "unreadable",
    }
    assert rep["counts"] == {"registered": 4, "present": 3, "absent": 1, "blank": 0, "copies": 3, "pages": 8}


def test_images_are_the_masked_ones_and_originals_are_kept(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot, "in/batch1.pdf")
    page1, page2 = copies(report(lot))[A]["pages"][:2]
    original1 = sheet_jpeg(booklet(A, "CAND001")[0])
    original2 = sheet_jpeg(booklet(A, "CAND001")[1])
    assert (lot / page1["image"]).read_bytes() != original1  # page 1 masked
    assert (lot / page2["image"]).read_bytes() == original2  # other pages: the scanner's bytes
    originals = sorted((lot / "originals").iterdir())
    assert len(originals) == 6 and original1 in [p.read_bytes() for p in originals]
    assert all(not p["image"].startswith("originals") for p in copies(report(lot))[A]["pages"] if p["image"])


def test_reimport_adds_nothing(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot)
    before, lines = report(lot), journal_lines(lot)
    do_import(scans, lot)
    do_import(scans, lot, "in/batch2.pdf")
    assert journal_lines(lot) == lines
    assert report(lot) == before


def test_new_files_merge_into_the_lot(scans, tmp_path):
    whole, stepwise = tmp_path / "whole", tmp_path / "stepwise"
    do_import(scans, whole, "in/batch1.pdf", "in/batch2.pdf")
    do_import(scans, stepwise, "in/batch1.pdf")
    assert B not in copies(report(stepwise))
    do_import(scans, stepwise, "in/batch2.pdf", "in/batch1.pdf")
    assert comparable(report(stepwise)) == comparable(report(whole))


def test_same_pages_under_another_file_name_are_the_same_pages(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot, "in/batch1.pdf")
    lines = journal_lines(lot)
    renamed = tmp_path / "renamed.pdf"
    shutil.copy(scans / "in/batch1.pdf", renamed)
    do_import(scans, lot, str(renamed))
    assert journal_lines(lot) == lines


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"--paper": "u 3!"}, "paper code"),
        ({"--roll": "missing.csv"}, "does not exist"),
        ({"--roll": "bad.csv"}, "first line must name the columns"),
        ({"--lot": "afile"}, "is a file, not a folder"),
        ({"--lot": "/sys/kernel"}, "is not writable"),  # exists, refuses writes even to root
        ({"--lot": "/sys/kernel/lot"}, "cannot create the lot folder"),
        ({"--centre": "12AB"}, "UAI"),
    ],
)
def test_plain_words_errors(scans, tmp_path, change, expected):
    (tmp_path / "bad.csv").write_text("who,when\nx,y\n")
    (tmp_path / "afile").write_text("")
    options = {"--paper": PAPER, "--roll": str(scans / "roll.csv"), "--lot": str(tmp_path / "lot")}
    options |= {k: (str(tmp_path / v) if k in ("--roll", "--lot") else v) for k, v in change.items()}
    if change.get("--lot", "").startswith("/sys"):
        options["--lot"] = change["--lot"]
    args = [item for pair in options.items() for item in pair]
    result = run("scan", "import", str(scans / "in"), *args, "--quiet", check=False)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_lot_made_for_another_paper_is_refused(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot, "in/batch1.pdf")
    result = run(
        "scan",
        "import",
        str(scans / "in"),
        "--paper",
        "U41",
        "--roll",
        str(scans / "roll.csv"),
        "--lot",
        str(lot),
        "--quiet",
        check=False,
    )
    assert result.returncode == 2 and "is for paper U3, not U41" in result.stderr


def test_text_report_says_what_to_do(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot)
    text = run("scan", "report", str(lot)).stdout
    for words in (
        "page scanned twice",
        "page of another paper",
        "copy missing",
        "page without a code",
        "confirm-annex",
        "registered 4",
        "present 3",
        "absent 1",
        "anomalies to resolve 6",
    ):
        assert words in text, words


def test_resolving_every_anomaly_closes_the_list(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot)
    d = str(lot)
    run("scan", "resolve", "confirm-annex", d, "in/batch1.pdf#5", "--by", "alice")
    run("scan", "resolve", "discard", d, "in/batch2.pdf#3", "--reason", "scanned twice", "--by", "alice")
    run("scan", "resolve", "discard", d, "in/batch2.pdf#4", "--reason", "other paper")
    run("scan", "resolve", "discard", d, "in/empty.jpg#0", "--reason", "empty export")
    run("scan", "resolve", "mark-absent", d, "CAND004")
    rep = report(lot)
    assert kinds(rep) == ["missing_page"]
    run("scan", "resolve", "accept-incomplete", d, B, "--reason", "page 4 torn out")
    rep = report(lot)
    assert rep["anomalies"] == [] and rep["blocking"] == []
    annex = copies(rep)[A]["pages"][-1]
    assert annex["number"] is None and (lot / annex["image"]).is_file()
    decisions = [json.loads(line) for line in (lot / "journal.jsonl").read_text().splitlines()]
    decisions = [e for e in decisions if e["t"] == "decision"]
    assert len(decisions) == 6 and decisions[0]["by"] == "alice" and all(e["at"] for e in decisions)
    assert rep["counts"]["absent"] == 2


def test_assign_makes_a_masked_image_for_a_page_1(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot, "in/batch1.pdf")
    d = str(lot)
    taken = run("scan", "resolve", "assign", d, "batch1.pdf#5", A, "--page", "2", check=False)
    assert taken.returncode == 2 and "already has a page 2" in taken.stderr
    run("scan", "resolve", "assign", d, "batch1.pdf#5", C, "--page", "1")
    page = copies(report(lot))[C]["pages"][0]
    assert page["number"] == 1 and page["source"] == "batch1.pdf#5"
    assert (lot / page["image"]).read_bytes() != sheet_jpeg(Sheet(None, seed=5))


def test_rescan_sets_pages_aside_and_a_new_scan_replaces_them(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot)
    run("scan", "resolve", "rescan", str(lot), B)
    rep = report(lot)
    assert B not in copies(rep)
    assert "missing_copy" in kinds(rep) and "duplicate_page" not in kinds(rep)
    aside = [u for u in rep["unassigned"] if "rescanned" in u["reason"]]
    assert len(aside) == 4 and all(u["kind"] == "discarded" for u in aside)
    write_pdf(tmp_path / "again.pdf", booklet(B, "CAND002", seed=4))
    do_import(scans, lot, str(tmp_path / "again.pdf"))
    rep = report(lot)
    assert [p["number"] for p in copies(rep)[B]["pages"]] == [1, 2, 3, 4]
    assert copies(rep)[B]["status"] == "ok"


def test_a_decision_taken_by_mistake_is_undone_and_both_stay_recorded(scans, tmp_path):
    lot = tmp_path / "lot"
    do_import(scans, lot, "in/batch1.pdf")
    d = str(lot)
    before = report(lot)
    run("scan", "resolve", "discard", d, "batch1.pdf#0", "--reason", "wrong sheet", "--by", "bob")
    assert "missing_page" in kinds(report(lot))  # page 1 of copy A went with it
    history = run("scan", "resolve", "history", d).stdout
    [line] = [line for line in history.splitlines() if "discard" in line]
    decision = line.split()[0]
    run("scan", "resolve", "undo", d, decision, "--reason", "it was the right sheet", "--by", "bob")
    assert report(lot) == before
    history = run("scan", "resolve", "history", d).stdout
    assert "(undone)" in history and "undo" in history
    again = run("scan", "resolve", "undo", d, decision, "--reason", "twice", check=False)
    assert again.returncode == 2 and "no decision" in again.stderr
