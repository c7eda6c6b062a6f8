"""Sealing, verifying and unsealing a lot; the journal's crash rules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from massicot_core.contract import Manifest
from massicot_core.errors import UserError
from massicot_core.files import write_atomic
from massicot_core.roll import RollLine
from scanner.lot import Journal, Lot
from testkit.lot import PAPER, Sheet, booklet, copy_ids, report, run, write_pdf, write_roll

A, B = copy_ids(2)


@pytest.fixture
def lot(tmp_path) -> Path:
    """A lot with one anomaly left open: an annex to confirm."""
    write_pdf(tmp_path / "scan.pdf", booklet(A, "CAND001", pages=2) + [Sheet(None, seed=5)])
    write_roll(tmp_path / "roll.csv", [("CAND001", True), ("CAND002", False)])
    folder = tmp_path / "lot"
    run(
        "scan",
        "import",
        str(tmp_path / "scan.pdf"),
        "--paper",
        PAPER,
        "--roll",
        str(tmp_path / "roll.csv"),
        "--lot",
        str(folder),
        "--centre",
        "0130040Y",
        "--quiet",
    )
    return folder


def sealed(lot: Path) -> Path:
    run("scan", "resolve", "confirm-annex", str(lot), "scan.pdf#2")
    run("scan", "seal", str(lot), "--by", "centre-op")
    return lot


def test_seal_refuses_while_anomalies_are_open_and_lists_them(lot):
    result = run("scan", "seal", str(lot), check=False)
    assert result.returncode == 2
    assert "uncoded_page" in result.stderr and "scan.pdf#2" in result.stderr
    assert not (lot / "manifest.json").exists() and not (lot / "identity.json").exists()


def test_seal_writes_the_manifest_and_the_identity_file(lot):
    sealed(lot)
    manifest = Manifest.model_validate_json((lot / "manifest.json").read_bytes())
    assert manifest.is_intact() and manifest.sealed_by == "centre-op" and manifest.centre == "0130040Y"
    assert manifest.counts.model_dump() == {
        "registered": 2,
        "present": 1,
        "absent": 1,
        "blank": 0,
        "copies": 2,
        "pages": 3,
    }
    by_copy = {c.copy: c for c in manifest.copies}
    assert [p.number for p in by_copy[A].pages] == [1, 2, None]
    for page in by_copy[A].pages:
        assert page.sha256 == hashlib.sha256((lot / page.image).read_bytes()).hexdigest()
    assert sorted((s.source, s.use) for s in manifest.sources) == [
        ("scan.pdf#0", "page"),
        ("scan.pdf#1", "page"),
        ("scan.pdf#2", "page"),
    ]
    identity = json.loads((lot / "identity.json").read_text())
    assert {link["candidate"] for link in identity["links"]} == {"CAND001", "CAND002"}
    assert "CAND001" not in (lot / "manifest.json").read_text()  # identities live in identity.json only
    assert run("scan", "verify", str(lot)).returncode == 0


def test_discarded_and_blank_sources_are_in_the_manifest_with_their_reason(tmp_path):
    write_pdf(
        tmp_path / "scan.pdf",
        booklet(A, "CAND001", pages=2) + [Sheet(None, writing=False), Sheet(A, 2, seed=8)],
    )
    write_roll(tmp_path / "roll.csv", [("CAND001", True)])
    lot = tmp_path / "lot"
    run(
        "scan",
        "import",
        str(tmp_path / "scan.pdf"),
        "--paper",
        PAPER,
        "--roll",
        str(tmp_path / "roll.csv"),
        "--lot",
        str(lot),
        "--quiet",
    )
    run("scan", "resolve", "discard", str(lot), "scan.pdf#3", "--reason", "fed twice")
    refused = run("scan", "seal", str(lot), check=False)
    assert refused.returncode == 2 and "centre" in refused.stderr  # no --centre given at import
    run("scan", "seal", str(lot), "--centre", "0130040Y")
    manifest = Manifest.model_validate_json((lot / "manifest.json").read_bytes())
    uses = {s.source: (s.use, s.reason) for s in manifest.sources}
    assert uses["scan.pdf#2"][0] == "blank_verso"
    assert uses["scan.pdf#3"] == ("discarded", "discarded: fed twice")


def flip_byte(path: Path, at: int = 200) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_names_a_changed_image(lot):
    sealed(lot)
    [copy] = [c for c in report(lot)["copies"] if c["copy"] == A]
    page = copy["pages"][1]
    flip_byte(lot / page["image"])
    result = run("scan", "verify", str(lot), check=False)
    assert result.returncode == 1
    assert page["image"] in result.stdout and "changed" in result.stdout


def test_verify_names_a_changed_identity_file(lot):
    sealed(lot)
    flip_byte(lot / "identity.json", at=60)
    result = run("scan", "verify", str(lot), check=False)
    assert result.returncode == 1 and "identity.json differs" in result.stdout


def test_verify_names_a_changed_manifest(lot):
    sealed(lot)
    path = lot / "manifest.json"
    text = path.read_text()
    path.write_text(text.replace('"present": 1', '"present": 2'))
    result = run("scan", "verify", str(lot), check=False)
    assert result.returncode == 1 and "manifest.json was changed" in result.stdout


def test_verify_names_a_flipped_byte_anywhere_in_the_manifest(lot):
    sealed(lot)
    path = lot / "manifest.json"
    data = path.read_bytes()
    at = data.index(b'"sha256": "') + 15  # inside the first image's hash
    flip_byte(path, at)
    result = run("scan", "verify", str(lot), check=False)
    assert result.returncode == 1 and "manifest.json" in result.stdout


def test_sealed_lot_refuses_changes_until_unsealed(lot, tmp_path):
    sealed(lot)
    refused = run("scan", "resolve", "mark-absent", str(lot), "CAND001", check=False)
    assert refused.returncode == 2 and "unseal" in refused.stderr
    refused = run(
        "scan",
        "import",
        str(tmp_path / "scan.pdf"),
        "--paper",
        PAPER,
        "--roll",
        str(tmp_path / "roll.csv"),
        "--lot",
        str(lot),
        "--quiet",
        check=False,
    )
    assert refused.returncode == 2 and "sealed" in refused.stderr
    run("scan", "unseal", str(lot), "--reason", "wrong roll", "--by", "chief")
    assert not (lot / "manifest.json").exists()
    assert list(lot.glob("manifest.unsealed-*.json"))  # the old seal is kept beside
    run("scan", "resolve", "mark-blank", str(lot), A)
    run("scan", "seal", str(lot))
    assert Manifest.model_validate_json((lot / "manifest.json").read_bytes()).counts.blank == 1
    assert run("scan", "verify", str(lot)).returncode == 0


# -- the journal --------------------------------------------------------------------------------


def test_torn_last_line_is_ignored_reported_and_set_aside(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"t":"file_done","file_sha256":"aa","pages":1}\n{"t":"recei')
    journal = Journal(path)
    entries, warnings = journal.read()
    assert [e["t"] for e in entries] == ["file_done"]
    assert len(warnings) == 1 and "cut short" in warnings[0]
    journal.repair_tail()
    journal.append({"t": "file_done", "file_sha256": "bb", "pages": 2})
    entries, warnings = journal.read()
    assert [e["file_sha256"] for e in entries] == ["aa", "bb"] and warnings == []
    assert [p.read_bytes() for p in tmp_path.glob("journal.torn-*")] == [b'{"t":"recei']


def test_damaged_line_in_the_middle_is_skipped_and_reported(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"t":"a"}\n\x00\x00garbage\n{"t":"b"}\n')
    entries, warnings = Journal(path).read()
    assert [e["t"] for e in entries] == ["a", "b"] and "line 2" in warnings[0]


def test_atomic_write_replaces_whole(tmp_path):
    target = tmp_path / "f.json"
    write_atomic(target, b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_one_writer_at_a_time(tmp_path):
    lot = Lot.open_or_create(
        tmp_path / "lot", paper=PAPER, centre=None, roll=[RollLine("CAND001", "A", True)]
    )
    with lot.writing(), pytest.raises(UserError, match="another massicot command"), Lot(lot.folder).writing():
        pass
