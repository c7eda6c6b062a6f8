"""`massicot print ...`: the exact commands outside tools rely on, and every bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest


def assert_refused(result, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]


def test_print_booklets_writes_count_times_pages(tmp_path: Path, run_massicot):
    out = tmp_path / "b.pdf"
    result = run_massicot(
        "print", "booklets", "--paper", "U3", "--count", "3", "--pages", "6", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert len(pdfium.PdfDocument(out)) == 18
    assert [p.name for p in tmp_path.iterdir()] == ["b.pdf"]


def test_print_booklets_default_is_four_pages_and_every_booklet_has_its_own_id(tmp_path: Path, run_massicot):
    out = tmp_path / "b.pdf"
    assert (
        run_massicot("print", "booklets", "--paper", "U3", "--count", "4", "--out", str(out)).returncode == 0
    )
    pdf = pdfium.PdfDocument(out)
    assert len(pdf) == 16
    ids = {pdf[i].get_textpage().get_text_range().split("copie n° ")[1][:9] for i in range(0, 16, 4)}
    assert len(ids) == 4


def test_print_labels_and_roll(tmp_path: Path, roll_csv: Path, run_massicot):
    labels, roll = tmp_path / "l.pdf", tmp_path / "r.pdf"
    assert (
        run_massicot(
            "print", "labels", "--paper", "U3", "--roll", str(roll_csv), "--out", str(labels)
        ).returncode
        == 0
    )
    assert (
        run_massicot("print", "roll", "--paper", "U3", "--roll", str(roll_csv), "--out", str(roll)).returncode
        == 0
    )
    assert "Dupont Jeanne" in pdfium.PdfDocument(labels)[0].get_textpage().get_text_range()
    assert "Nguyen Thi Lan" in pdfium.PdfDocument(roll)[0].get_textpage().get_text_range()


BOOKLET_CASES = {
    "bad paper code": (["--paper", "u3 bis!", "--count", "2"], ["paper"]),
    "count zero": (["--paper", "U3", "--count", "0"], ["--count"]),
    "count 100000": (["--paper", "U3", "--count", "100000"], ["--count", "10000"]),
    "count negative": (["--paper", "U3", "--count", "-3"], ["--count"]),
    "pages zero": (["--paper", "U3", "--count", "2", "--pages", "0"], ["--pages"]),
    "pages 41": (["--paper", "U3", "--count", "2", "--pages", "41"], ["--pages", "40"]),
}


@pytest.mark.parametrize("case", list(BOOKLET_CASES))
def test_print_booklets_refuses_bad_input_and_leaves_nothing(tmp_path: Path, run_massicot, case: str):
    args, words = BOOKLET_CASES[case]
    result = run_massicot("print", "booklets", *args, "--out", str(tmp_path / "b.pdf"))
    assert_refused(result, *words)
    assert list(tmp_path.iterdir()) == []


BAD_ROLLS = {
    "missing column": ("candidate,name\nA1234567,Dupont\n", "present"),
    "bad registration": ("candidate,name,present\nA1,Dupont,yes\n", "line 2"),
    "bad present": ("candidate,name,present\nA1234567,Dupont,maybe\n", "line 2"),
    "duplicate": ("candidate,name,present\nA1234567,Dupont,yes\nA1234567,Durand,no\n", "line 3"),
    "empty": ("candidate,name,present\n", "no candidate"),
}


@pytest.mark.parametrize("command", ["labels", "roll"])
@pytest.mark.parametrize("case", list(BAD_ROLLS))
def test_print_labels_and_roll_refuse_a_malformed_roll(tmp_path: Path, run_massicot, command: str, case: str):
    text, word = BAD_ROLLS[case]
    folder = tmp_path / "out"
    folder.mkdir()
    roll = tmp_path / "roll.csv"
    roll.write_text(text, encoding="utf-8")
    result = run_massicot(
        "print", command, "--paper", "U3", "--roll", str(roll), "--out", str(folder / "x.pdf")
    )
    assert_refused(result, word)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("command", ["labels", "roll"])
def test_print_refuses_a_roll_file_that_is_not_there_or_not_text(tmp_path: Path, run_massicot, command: str):
    folder = tmp_path / "out"
    folder.mkdir()
    missing = run_massicot(
        "print",
        command,
        "--paper",
        "U3",
        "--roll",
        str(tmp_path / "nope.csv"),
        "--out",
        str(folder / "x.pdf"),
    )
    assert_refused(missing, "does not exist")
    binary = tmp_path / "roll.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    assert_refused(
        run_massicot(
            "print", command, "--paper", "U3", "--roll", str(binary), "--out", str(folder / "x.pdf")
        ),
        "UTF-8",
    )
    assert list(folder.iterdir()) == []


def test_print_refuses_a_missing_output_folder(tmp_path: Path, run_massicot):
    out = tmp_path / "no" / "such" / "b.pdf"
    assert_refused(
        run_massicot("print", "booklets", "--paper", "U3", "--count", "1", "--out", str(out)),
        "does not exist",
    )
    assert list(tmp_path.iterdir()) == []


def test_print_refuses_an_output_that_is_a_folder(tmp_path: Path, run_massicot):
    assert_refused(
        run_massicot("print", "booklets", "--paper", "U3", "--count", "1", "--out", str(tmp_path)), "folder"
    )
    assert list(tmp_path.iterdir()) == []


def test_print_refuses_an_output_below_a_file(tmp_path: Path, roll_csv: Path, run_massicot):
    out = roll_csv / "x.pdf"
    assert_refused(
        run_massicot("print", "labels", "--paper", "U3", "--roll", str(roll_csv), "--out", str(out)),
        "not a folder",
    )


def test_print_refuses_an_unwritable_output_path(tmp_path: Path, run_massicot):
    # A name longer than the file system allows cannot be written, even by root.
    out = tmp_path / ("x" * 300 + ".pdf")
    assert_refused(
        run_massicot("print", "booklets", "--paper", "U3", "--count", "1", "--out", str(out)), "cannot"
    )
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_kept_when_printing_fails(tmp_path: Path, run_massicot):
    out = tmp_path / "b.pdf"
    out.write_bytes(b"previous run")
    assert_refused(
        run_massicot("print", "booklets", "--paper", "U3", "--count", "0", "--out", str(out)), "--count"
    )
    assert out.read_bytes() == b"previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["b.pdf"]


def test_paper_must_exist_when_a_database_is_configured(
    tmp_path: Path, run_massicot, database_with_paper: str
):
    env = {**os.environ, "MASSICOT_DB": database_with_paper}
    out = tmp_path / "out"
    out.mkdir()
    known = run_massicot(
        "print", "booklets", "--paper", "U3", "--count", "1", "--out", str(out / "a.pdf"), env=env
    )
    assert known.returncode == 0, known.stderr
    unknown = run_massicot(
        "print", "booklets", "--paper", "U4", "--count", "1", "--out", str(out / "b.pdf"), env=env
    )
    assert_refused(unknown, "U4", "not known")
    assert [p.name for p in out.iterdir()] == ["a.pdf"]
