"""The worker pool: results journaled in reception order; a worker that dies loses nothing."""

from __future__ import annotations

import json

from lotkit import PAPER, analyse_or_die, booklet, copy_ids, write_pdf

from massicot.roll import RollLine
from scanner.importing import Importer
from scanner.lot import Lot
from scanner.sources import iter_source_pages

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
