"""Candidate import from XLSX workbooks whose identifier cells a spreadsheet stored as numbers.

The workbooks are real .xlsx files written by openpyxl with numeric cells (checked to be numeric
once read back), imported on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.db import Base
from correction_server.models import Candidate, Centre, RollEntry
from correction_server.office.candidates import CANDIDATE_COLUMNS, import_candidates
from correction_server.office.import_report import ImportRejected, Problem
from correction_server.office.papers import import_paper

DATA = Path(__file__).parent / "data"
HEADER = list(CANDIDATE_COLUMNS)
GOOD: dict[str, Any] = {
    "registration": "02410000001",
    "surname": "MARTIN",
    "given_names": "Léa",
    "birth_date": "2005-03-14",
    "establishment_uai": "0130039X",
    "establishment_name": "Lycée Montgrand",
    "centre_uai": "0130040Y",
    "centre_name": "Lycée Thiers",
    "papers": "U3",
}
SCIENTIFIC = "0.00E+00"  # the number format a spreadsheet gives a cell shown as 2.41E+09

Factory = sessionmaker[Session]


def row(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def write_xlsx(
    path: Path, rows: list[dict[str, Any]], formats: dict[tuple[int, str], str] | None = None
) -> Path:
    """rows as the sheet's lines 2, 3, ...; formats: (line, column) -> number format."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for values in rows:
        sheet.append([values[c] for c in HEADER])
    for (line, column), number_format in (formats or {}).items():
        sheet.cell(line, HEADER.index(column) + 1).number_format = number_format
    workbook.save(path)
    return path


def cell_types(path: Path, column: str) -> list[str]:
    """The type each data cell of a column has in the saved file: 'n' number, 's' text."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        index = HEADER.index(column)
        return [cells[index].data_type for cells in list(workbook.active.iter_rows())[1:]]
    finally:
        workbook.close()


def snapshot(factory: Factory) -> dict[str, list[tuple]]:
    with factory() as db:
        return {
            table.name: [tuple(r) for r in db.execute(select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def registrations(factory: Factory) -> list[str]:
    with factory() as db:
        return sorted(db.scalars(select(Candidate.registration)))


def rejected(factory: Factory, path: Path, registration_digits: int | None = None) -> ImportRejected:
    before = snapshot(factory)
    with pytest.raises(ImportRejected) as info:
        import_candidates(factory, path, registration_digits)
    assert snapshot(factory) == before, "a rejected file must import nothing"
    assert "nothing was imported" in str(info.value)
    return info.value


@pytest.fixture
def with_paper(session_factory: Factory) -> Factory:
    import_paper(session_factory, DATA / "paper_u3.yaml")
    return session_factory


# --------------------------------------------------------------------------------------------
# Registration numbers


def test_registration_gets_its_zeros_back_when_every_number_has_a_known_length(
    with_paper: Factory, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [
            row(),  # text: kept as written
            row(registration=2410000002, surname="DURAND"),  # 02410000002 after the spreadsheet
            row(registration=12410000003, surname="PETIT"),  # a number of 11 digits: nothing dropped
        ],
    )
    assert cell_types(path, "registration") == ["s", "n", "n"]
    summary = import_candidates(with_paper, path, registration_digits=11)
    assert registrations(with_paper) == ["02410000001", "02410000002", "12410000003"]
    assert summary.candidates_created == 3
    assert summary.notes == (
        Problem(
            3,
            "registration 2410000002 was stored as a number in the spreadsheet; "
            "read as 02410000002: check it",
        ),
    )
    assert str(summary).splitlines()[1:] == [
        "1 line to check (the spreadsheet had dropped leading zeros, put back):",
        "  line 3: registration 2410000002 was stored as a number in the spreadsheet; "
        "read as 02410000002: check it",
    ]
    with with_paper() as db:
        durand = db.scalars(select(Candidate).where(Candidate.surname == "DURAND")).one()
        assert durand.registration == "02410000002"
        assert db.scalars(select(RollEntry).where(RollEntry.candidate_id == durand.id)).one()
    # The same workbook again: nothing to change, and the line is still named to be checked.
    again = import_candidates(with_paper, path, registration_digits=11)
    assert not again.changed and [n.line for n in again.notes] == [3]


def test_registration_stored_as_a_number_is_refused_when_its_length_is_not_known(
    with_paper: Factory, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [row(), row(registration=2410000002), row(registration=12410000003), row(registration="02410000004")],
    )
    error = rejected(with_paper, path)
    # Even 12410000003 may have lost zeros: without a known length no number can be trusted.
    assert [p.line for p in error.problems] == [3, 4]
    assert str(error.problems[0]) == (
        "line 3: registration 2410000002 was stored as a number in the spreadsheet, so any zeros it "
        "began with are lost and the real registration cannot be known: format the registration column "
        "as text in the spreadsheet and export the file again, so that every code keeps its leading "
        "zeros (or, if every registration has the same number of digits N, run the import again with "
        "--registration-digits N)"
    )
    assert registrations(with_paper) == []


@pytest.mark.parametrize(
    ("value", "number_format", "reason"),
    [
        (2410000002, SCIENTIFIC, "registration 2410000002 is a number shown in scientific notation"),
        (2.41e9, SCIENTIFIC, "registration 2410000000 is a number shown in scientific notation"),
        (2410000002.5, None, "registration 2410000002.5 is a number with a decimal part or a sign"),
        (1234567890123456, None, "registration 1234567890123456 is a number of more than 15 digits"),
    ],
)
def test_registration_in_scientific_notation_or_with_decimals_is_refused(
    with_paper: Factory, tmp_path: Path, value: float, number_format: str | None, reason: str
) -> None:
    formats = {(3, "registration"): number_format} if number_format else {}
    path = write_xlsx(tmp_path / "c.xlsx", [row(), row(registration=value)], formats)
    assert cell_types(path, "registration") == ["s", "n"]
    error = rejected(with_paper, path, registration_digits=16)
    assert [p.line for p in error.problems] == [3]
    assert error.problems[0].reason.startswith(reason)
    assert error.problems[0].reason.endswith(
        "format the registration column as text in the spreadsheet and export the file again, "
        "so that every code keeps its leading zeros"
    )


def test_number_longer_than_the_stated_length_is_refused(with_paper: Factory, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [row(), row(registration=112410000002)])
    error = rejected(with_paper, path, registration_digits=11)
    assert [str(p) for p in error.problems] == [
        "line 3: registration 112410000002 was stored as a number in the spreadsheet and has 12 digits, "
        "more than the 11 given with --registration-digits: check this registration and the option"
    ]


def test_restored_registration_is_checked_for_duplicates(with_paper: Factory, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [row(), row(registration=2410000001)])
    error = rejected(with_paper, path, registration_digits=11)
    assert [str(p) for p in error.problems] == [
        "line 3: registration number 02410000001 is already on line 2"
    ]


# --------------------------------------------------------------------------------------------
# UAI codes and paper codes


@pytest.mark.parametrize("column", ["centre_uai", "establishment_uai"])
@pytest.mark.parametrize(
    ("value", "number_format", "said"),
    [
        (130040, None, "130040 was stored as a number in the spreadsheet, but a UAI code is 7 digits then"),
        (130040, SCIENTIFIC, "130040 is a number shown in scientific notation"),
        (130040.5, None, "130040.5 is a number with a decimal part or a sign"),
    ],
)
def test_uai_stored_as_a_number_is_refused_once(
    with_paper: Factory, tmp_path: Path, column: str, value: float, number_format: str | None, said: str
) -> None:
    formats = {(3, column): number_format} if number_format else {}
    path = write_xlsx(
        tmp_path / "c.xlsx", [row(), row(registration="02410000002", **{column: value})], formats
    )
    assert cell_types(path, column) == ["s", "n"]
    error = rejected(with_paper, path, registration_digits=11)
    # One reason for the line, not also “is not a UAI code”.
    assert [p.line for p in error.problems] == [3]
    assert error.problems[0].reason.startswith(f"{column} {said}")
    assert f"format the {column} column as text in the spreadsheet and export the file again" in str(error)


def test_paper_code_that_lost_its_zeros_is_named(session_factory: Factory, tmp_path: Path) -> None:
    yaml_path = tmp_path / "paper_0101.yaml"
    yaml_path.write_text(
        (DATA / "paper_u3.yaml").read_text(encoding="utf-8").replace("code: U3", "code: '0101'"),
        encoding="utf-8",
    )
    import_paper(session_factory, yaml_path)
    path = write_xlsx(tmp_path / "c.xlsx", [row(papers="0101"), row(registration="02410000002", papers=101)])
    assert cell_types(path, "papers") == ["s", "n"]
    error = rejected(session_factory, path)
    assert [str(p) for p in error.problems] == [
        "line 3: paper 101 does not exist in session “BTS 2024 normale” (known: 0101); 101 may be 0101 "
        "with its leading zeros dropped by a spreadsheet: format the papers column as text in the "
        "spreadsheet and export the file again"
    ]
    path = write_xlsx(
        tmp_path / "c.xlsx", [row(papers="0101"), row(registration="02410000002", papers=101.5)]
    )
    error = rejected(session_factory, path)
    assert [p.reason.split(":")[0] for p in error.problems] == [
        "papers 101.5 is a number with a decimal part or a sign in the spreadsheet, not a code"
    ]


# --------------------------------------------------------------------------------------------
# Text stays text


def test_csv_cells_are_text_as_written(with_paper: Factory, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows([row(), row(registration="2410000002"), row(registration="1234")])
    # Even with a length stated, a CSV's registration numbers are what the file says.
    summary = import_candidates(with_paper, path, registration_digits=11)
    assert summary.notes == ()
    assert registrations(with_paper) == ["02410000001", "1234", "2410000002"]


def test_numbers_outside_identifier_columns_are_left_alone(with_paper: Factory, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [row(surname=1789, centre_name=13)])
    summary = import_candidates(with_paper, path)
    assert summary.notes == () and summary.candidates_created == 1
    with with_paper() as db:
        assert db.scalars(select(Candidate.surname)).one() == "1789"
        assert db.scalars(select(Centre.name)).one() == "13"


# --------------------------------------------------------------------------------------------
# The command line


def _massicot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASSICOT_")}
    command = [sys.executable, "-c", "from massicot.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_cli_refuses_then_restores_with_the_option(db_url: str, tmp_path: Path) -> None:
    paper = _massicot("office", "import", "paper", str(DATA / "paper_u3.yaml"), "--db", db_url, cwd=tmp_path)
    assert paper.returncode == 0, paper.stderr
    path = write_xlsx(tmp_path / "c.xlsx", [row(), row(registration=2410000002)])
    refused = _massicot("office", "import", "candidates", str(path), "--db", db_url, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "line 3: registration 2410000002 was stored as a number" in refused.stderr
    done = _massicot(
        "office",
        "import",
        "candidates",
        str(path),
        "--registration-digits",
        "11",
        "--db",
        db_url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "  line 3: registration 2410000002 was stored as a number in the spreadsheet; "
        "read as 02410000002: check it"
    )
    out_of_range = _massicot(
        "office",
        "import",
        "candidates",
        str(path),
        "--registration-digits",
        "3",
        "--db",
        db_url,
        cwd=tmp_path,
    )
    assert out_of_range.returncode == 2 and "Traceback" not in out_of_range.stderr
