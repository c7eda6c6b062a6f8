"""The worker pool: results journaled in reception order; a worker that dies loses nothing."""

from __future__ import annotations

import json

from massicot_core.roll import RollLine
from scanner.importing import Importer
from scanner.lot import Lot
from scanner.sources import iter_source_pages
from testkit.lot import PAPER, analyse_or_die, booklet, copy_ids, write_pdf

A = copy_ids(1)[0]


def test_a_crashing_worker_sets_only_its_page_aside(tmp_path):
    pdf = write_pdf(
        tmp_path / "scan.pdf", booklet(A, "CAND001", pages=4) + booklet(A, None, pages=2, seed=3)[1:]
    )
    lot = Lot.open_or_create(
        tmp_path / "lot", paper=PAPER, centre=None, roll=[RollLine("CAND001", "A", True)]
    )
    with lot.writing():
        importer = Importer(lot, lot.state(), workers=2, analyse=analyse_or_die)
        try:
            for page in iter_source_pages(pdf, "scan.pdf"):
                importer.receive(page)
            importer.finish()
        finally:
            importer.close()
    entries = [json.loads(line) for line in (lot.folder / "journal.jsonl").read_text().splitlines()]
    analysed = [e for e in entries if e["t"] == "analysed"]
    received = [e["key"] for e in entries if e["t"] == "received"]
    assert [e["key"] for e in analysed] == received  # in reception order, each once
    errors = {e["key"].split(":")[1]: e.get("error") for e in analysed}
    assert errors["2"] and "crashed" in errors["2"]
    assert [k for k, v in errors.items() if v] == ["2"]
    state = lot.state()
    assert sum(1 for p in state.pages.values() if p.analysis is not None) == 4


def test_a_file_imported_half_way_blocks_the_seal_until_finished(tmp_path):
    from scanner.importing import import_files
    from scanner.report import build_view

    pdf = write_pdf(tmp_path / "scan.pdf", booklet(A, "CAND001", pages=4))
    lot = Lot.open_or_create(
        tmp_path / "lot", paper=PAPER, centre=None, roll=[RollLine("CAND001", "A", True)]
    )
    with lot.writing():  # as if the station stopped after two sheets of the file
        importer = Importer(lot, lot.state(), workers=1)
        pages = list(iter_source_pages(pdf, "scan.pdf"))[:2]
        importer.receive_many(pages)
        importer.finish()
    view = build_view(lot.state())
    assert [b for b in view.blocking() if "stopped before its end" in b]
    with lot.writing():
        result = import_files(lot, [pdf], workers=1)
    assert (result.received, result.skipped) == (2, 2)
    view = build_view(lot.state())
    assert view.blocking() == [] and view.anomalies == []
