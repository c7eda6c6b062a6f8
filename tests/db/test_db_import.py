"""Office imports on SQLite and PostgreSQL: sample files, idempotence, and every bad-line case."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.db import Base
from correction_server.models import (
    Attendance,
    Candidate,
    Centre,
    Establishment,
    ExamSession,
    Paper,
    Question,
    RollEntry,
)
from correction_server.office.candidates import import_candidates, parse_candidates
from correction_server.office.import_report import ImportRejected
from correction_server.office.papers import import_paper
from correction_server.office.tables import parse_csv

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[2] / "massicot" / "samples"
HEADER = [
    "registration",
    "surname",
    "given_names",
    "birth_date",
    "establishment_uai",
    "establishment_name",
    "centre_uai",
    "centre_name",
    "papers",
]
GOOD = {
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

Factory = sessionmaker[Session]


def snapshot(factory: Factory) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: two equal snapshots mean nothing changed."""
    with factory() as db:
        result = {}
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            result[table.name] = [tuple(r) for r in db.execute(select(table).order_by(*order))]
        return result


def count(factory: Factory, model: type) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model))


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def rejected(factory: Factory, path: Path) -> ImportRejected:
    """Import a bad file; check it names its problems and left the database exactly as it was."""
    before = snapshot(factory)
    with pytest.raises(ImportRejected) as info:
        import_candidates(factory, path)
    assert snapshot(factory) == before, "a rejected file must import nothing"
    assert "nothing was imported" in str(info.value)
    return info.value


@pytest.fixture
def with_paper(session_factory: Factory) -> Factory:
    import_paper(session_factory, DATA / "paper_u3.yaml")
    return session_factory


# --------------------------------------------------------------------------------------------
# The sample files


def test_sample_files_are_the_demo_files() -> None:
    for name in ("candidates.csv", "paper_u3.yaml"):
        assert (DATA / name).read_bytes() == (SAMPLES / name).read_bytes(), name


def test_sample_paper_imports_with_its_bareme(session_factory: Factory) -> None:
    summary = import_paper(session_factory, DATA / "paper_u3.yaml")
    assert summary.outcome == "created"
    with session_factory() as db:
        paper = db.scalars(select(Paper)).one()
        assert (paper.session.name, paper.code, paper.title) == ("BTS 2024 normale", "U3", "Mathématiques")
        assert paper.max_mark == 20 and paper.pages_per_copy == 4 and paper.duration_minutes == 120
        assert paper.sitting_date == date(2024, 5, 15)
        assert paper.window_opens == datetime(2024, 5, 22, 6, 0, tzinfo=UTC)
        assert paper.window_closes == datetime(2024, 6, 9, 18, 0, tzinfo=UTC)
        assert [q.position for q in paper.questions] == [1, 2, 3, 4, 5]
        assert sum(q.max_points for q in paper.questions) == paper.max_mark
        assert [q.step for q in paper.questions] == [Decimal("0.5")] * 4 + [Decimal(1)]


def test_sample_candidates_import(with_paper: Factory) -> None:
    summary = import_candidates(with_paper, DATA / "candidates.csv")
    assert (summary.candidates_created, summary.centres_created, summary.establishments_created) == (60, 2, 4)
    assert count(with_paper, Candidate) == 60
    assert count(with_paper, Centre) == 2
    assert count(with_paper, Establishment) == 4
    assert count(with_paper, RollEntry) == 60
    with with_paper() as db:
        lea = db.scalars(select(Candidate).where(Candidate.registration == "02413061323")).one()
        assert (lea.surname, lea.given_names, lea.birth_date) == ("DUMONT", "Léa", date(2005, 7, 29))
        assert (lea.centre.uai, lea.establishment.uai) == ("0130040Y", "0130039X")
        assert [(e.paper.code, e.attendance) for e in lea.roll] == [("U3", Attendance.REGISTERED)]
        # DD/MM/YYYY dates are read day first.
        lina = db.scalars(select(Candidate).where(Candidate.registration == "02412188627")).one()
        assert lina.birth_date == date(2005, 9, 9)


def test_reimporting_the_same_files_changes_nothing(with_paper: Factory) -> None:
    import_candidates(with_paper, DATA / "candidates.csv")
    before = snapshot(with_paper)
    assert sum(len(rows) for rows in before.values()) > 60
    again = import_candidates(with_paper, DATA / "candidates.csv")
    paper_again = import_paper(with_paper, DATA / "paper_u3.yaml")
    assert not again.changed and again.candidates_unchanged == 60
    assert not paper_again.changed
    assert snapshot(with_paper) == before


def test_xlsx_imports_like_the_csv(with_paper: Factory, session_factory: Factory, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    with (DATA / "candidates.csv").open(encoding="utf-8") as f:
        for number, cells in enumerate(csv.reader(f)):
            if number and "/" in cells[3]:  # a real date cell, as a spreadsheet stores it
                day, month, year = cells[3].split("/")
                cells[3] = datetime(int(year), int(month), int(day))
            sheet.append(cells)
    workbook.save(tmp_path / "candidates.xlsx")
    import_candidates(with_paper, tmp_path / "candidates.xlsx")
    from_xlsx = snapshot(with_paper)
    assert len(from_xlsx["candidate"]) == 60
    # The CSV brings exactly the same content: nothing to change.
    assert not import_candidates(with_paper, DATA / "candidates.csv").changed
    assert snapshot(with_paper) == from_xlsx


def test_semicolon_csv_from_a_french_spreadsheet(with_paper: Factory, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    lines = [";".join(HEADER), ";".join(row(papers="U3").values())]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())  # BOM + CRLF, as Excel writes
    import_candidates(with_paper, path)
    assert count(with_paper, Candidate) == 1


def test_update_changes_the_candidate_and_keeps_the_rest(with_paper: Factory, tmp_path: Path) -> None:
    other = row(registration="02410000002", surname="PETIT")
    import_candidates(with_paper, write_csv(tmp_path / "a.csv", [row(), other]))
    summary = import_candidates(
        with_paper,
        write_csv(tmp_path / "b.csv", [row(surname="MARTIN-DURAND", centre_name="Lycée Thiers (Marseille)")]),
    )
    assert (summary.candidates_updated, summary.names_updated) == (1, 1)
    with with_paper() as db:
        names = dict(db.execute(select(Candidate.registration, Candidate.surname)).all())
        assert names == {"02410000001": "MARTIN-DURAND", "02410000002": "PETIT"}  # PETIT untouched
        assert db.scalars(select(Centre.name)).one() == "Lycée Thiers (Marseille)"


def test_paper_taken_off_the_list_leaves_the_roll(with_paper: Factory, tmp_path: Path) -> None:
    u4 = (DATA / "paper_u3.yaml").read_text().replace("code: U3", "code: U4")
    (tmp_path / "u4.yaml").write_text(u4, encoding="utf-8")
    import_paper(with_paper, tmp_path / "u4.yaml")
    import_candidates(with_paper, write_csv(tmp_path / "a.csv", [row(papers="U3 U4")]))
    assert count(with_paper, RollEntry) == 2
    summary = import_candidates(with_paper, write_csv(tmp_path / "b.csv", [row(papers="U4")]))
    assert (summary.roll_added, summary.roll_removed) == (0, 1)
    with with_paper() as db:
        assert [e.paper.code for e in db.scalars(select(RollEntry))] == ["U4"]
        db.scalars(select(RollEntry)).one().attendance = Attendance.ABSENT
        db.commit()
    # Once an attendance is recorded, the paper cannot silently disappear from his list.
    problem = rejected(with_paper, write_csv(tmp_path / "c.csv", [row(papers="U3")]))
    assert "line 2:" in str(problem) and "absent" in str(problem)


# --------------------------------------------------------------------------------------------
# Bad candidate files: each is refused whole, with the line and the reason


def test_unknown_column(with_paper: Factory, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [{**row(), "email": "x@y.fr"}], header=[*HEADER, "email"])
    error = rejected(with_paper, path)
    assert [p.line for p in error.problems] == [1]
    assert "unknown column “email”" in str(error)


def test_missing_column(with_paper: Factory, tmp_path: Path) -> None:
    header = [c for c in HEADER if c != "birth_date"]
    path = write_csv(tmp_path / "c.csv", [{k: v for k, v in row().items() if k in header}], header=header)
    error = rejected(with_paper, path)
    assert "line 1: missing column: birth_date" in str(error)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"registration,surname\n"])
def test_empty_file(with_paper: Factory, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    error = rejected(with_paper, path)
    assert "empty" in str(error) or "missing column" in str(error)


def test_header_only_lists_no_candidate(with_paper: Factory, tmp_path: Path) -> None:
    error = rejected(with_paper, write_csv(tmp_path / "c.csv", []))
    assert "lists no candidate" in str(error)


def test_file_not_in_utf8(with_paper: Factory, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    text = (
        ",".join(HEADER)
        + "\n"
        + ",".join(row().values())
        + "\n"
        + ",".join(row(registration="02410000009").values())
    )
    path.write_bytes(text.encode("cp1252"))  # "Léa" in Windows-1252, as an old Excel saves it
    error = rejected(with_paper, path)
    assert "line 2:" in str(error) and "CSV UTF-8" in str(error)


def test_duplicate_registration_in_the_file(with_paper: Factory, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [row(), row(registration="02410000002"), row(surname="OTHER")])
    error = rejected(with_paper, path)
    assert [str(p) for p in error.problems] == [
        "line 4: registration number 02410000001 is already on line 2"
    ]


def test_duplicate_is_named_even_when_its_first_line_has_other_faults(
    with_paper: Factory, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", [row(birth_date="never"), row()])
    error = rejected(with_paper, path)
    assert [p.line for p in error.problems] == [2, 3]
    assert "line 3: registration number 02410000001 is already on line 2" in str(error)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("14.03.2005", "must be written YYYY-MM-DD or DD/MM/YYYY"),
        ("31/02/2005", "is not a real date"),
        ("2005-13-01", "is not a real date"),
        ("2099-01-01", "is not in the past"),
        ("", "birth_date is empty"),
    ],
)
def test_bad_birth_date(with_paper: Factory, tmp_path: Path, value: str, reason: str) -> None:
    error = rejected(
        with_paper, write_csv(tmp_path / "c.csv", [row(), row(registration="0241X2", birth_date=value)])
    )
    assert [p.line for p in error.problems] == [3]
    assert reason in str(error)


@pytest.mark.parametrize(
    ("column", "value"),
    [("centre_uai", "013004Y"), ("centre_uai", "01300400"), ("establishment_uai", "ABC1234Z")],
)
def test_bad_uai(with_paper: Factory, tmp_path: Path, column: str, value: str) -> None:
    error = rejected(with_paper, write_csv(tmp_path / "c.csv", [row(**{column: value})]))
    assert f"line 2: {column} “{value}” is not a UAI code" in str(error)


def test_lowercase_uai_letter_is_accepted_in_capitals(with_paper: Factory, tmp_path: Path) -> None:
    import_candidates(with_paper, write_csv(tmp_path / "c.csv", [row(centre_uai="0130040y")]))
    with with_paper() as db:
        assert db.scalars(select(Centre.uai)).one() == "0130040Y"


def test_unknown_paper_code(with_paper: Factory, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [row(), row(registration="02410000002", papers="U3;U9")])
    error = rejected(with_paper, path)
    assert [str(p) for p in error.problems] == [
        "line 3: paper U9 does not exist in session “BTS 2024 normale” (known: U3)"
    ]


@pytest.mark.parametrize("value", ["024-1000", "ABC", "A" * 17, "0241 0001", ""])
def test_bad_registration_number(with_paper: Factory, tmp_path: Path, value: str) -> None:
    error = rejected(with_paper, write_csv(tmp_path / "c.csv", [row(), row(registration=value)]))
    assert [p.line for p in error.problems] == [3]
    assert "must be 4 to 16 capital letters or digits" in str(error)


def test_xlsx_that_is_not_a_workbook(with_paper: Factory, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "candidates.xlsx", [row()])  # a CSV renamed .xlsx
    error = rejected(with_paper, path)
    assert "not an Excel workbook" in str(error)


def test_xlsx_errors_give_the_row_number(with_paper: Factory, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Candidates of the 2024 session"])  # a title row before the header is common
    sheet.append([])
    sheet.append(HEADER)
    sheet.append(list(row().values()))
    sheet.append(list(row(registration="02410000002", centre_uai="BAD").values()))
    workbook.save(tmp_path / "c.xlsx")
    error = rejected(with_paper, tmp_path / "c.xlsx")
    # The title rows are skipped: the header is found on row 3, the bad line is row 5.
    assert [str(p) for p in error.problems] == [
        "line 5: centre_uai “BAD” is not a UAI code: 7 digits then a capital letter, e.g. 0130040Y"
    ]
    sheet.delete_rows(1, 2)
    workbook.save(tmp_path / "c.xlsx")
    error = rejected(with_paper, tmp_path / "c.xlsx")
    assert [p.line for p in error.problems] == [3]


def test_other_file_types_are_refused_in_plain_words(with_paper: Factory, tmp_path: Path) -> None:
    (tmp_path / "c.ods").write_bytes(b"PK")
    with pytest.raises(Exception, match=r"give a \.csv file"):
        import_candidates(with_paper, tmp_path / "c.ods")


def test_every_bad_line_is_reported_and_good_lines_are_not_imported(
    with_paper: Factory, tmp_path: Path
) -> None:
    rows = [
        row(),
        row(registration="02410000002", birth_date="32/01/2005"),
        row(registration="02410000003"),
        row(registration="02410000004", centre_uai="X"),
        row(registration="02410000005", surname=""),
    ]
    error = rejected(with_paper, write_csv(tmp_path / "c.csv", rows))
    assert [p.line for p in error.problems] == [3, 5, 6]
    assert count(with_paper, Candidate) == 0


def test_line_with_too_many_values(with_paper: Factory, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(row().values()) + ",extra\n", encoding="utf-8")
    error = rejected(with_paper, path)
    assert "line 2: 10 values but the header (line 1) names 9 columns" in str(error)


def test_one_uai_with_two_names(with_paper: Factory, tmp_path: Path) -> None:
    rows = [row(), row(registration="02410000002", centre_name="Lycée Périer")]
    error = rejected(with_paper, write_csv(tmp_path / "c.csv", rows))
    assert "line 3: centre 0130040Y is named “Lycée Périer” here but “Lycée Thiers” on line 2" in str(error)


def test_session_must_be_named_when_there_are_several(with_paper: Factory, tmp_path: Path) -> None:
    other = (DATA / "paper_u3.yaml").read_text().replace("BTS 2024 normale", "BTS 2024 remplacement")
    (tmp_path / "p.yaml").write_text(other, encoding="utf-8")
    import_paper(with_paper, tmp_path / "p.yaml")
    error = rejected(with_paper, write_csv(tmp_path / "c.csv", [row()]))
    assert "several sessions (BTS 2024 normale, BTS 2024 remplacement)" in str(error)
    header = [*HEADER, "session"]
    bad = write_csv(tmp_path / "d.csv", [row(session="BTS 2023")], header=header)
    assert "line 2: session “BTS 2023” does not exist" in str(rejected(with_paper, bad))
    good = write_csv(tmp_path / "e.csv", [row(session="BTS 2024 remplacement")], header=header)
    import_candidates(with_paper, good)
    with with_paper() as db:
        assert db.scalars(select(RollEntry)).one().paper.session.name == "BTS 2024 remplacement"


def test_candidates_before_any_paper(session_factory: Factory, tmp_path: Path) -> None:
    error = rejected(session_factory, write_csv(tmp_path / "c.csv", [row()]))
    assert "no exam session yet: import the papers first" in str(error)


def test_parsing_is_pure_and_keeps_good_lines() -> None:
    text = (
        ",".join(HEADER) + "\n" + ",".join(row().values()) + "\n" + ",".join(row(registration="x").values())
    )
    parsed = parse_candidates(parse_csv(text.encode(), "c.csv"))
    assert [line.registration for line in parsed.lines] == ["02410000001"]
    assert [p.line for p in parsed.problems] == [3]


# --------------------------------------------------------------------------------------------
# Bad paper files


def paper_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "paper.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def bad_paper(factory: Factory, tmp_path: Path, text: str) -> ImportRejected:
    before = snapshot(factory)
    with pytest.raises(ImportRejected) as info:
        import_paper(factory, paper_yaml(tmp_path, text))
    assert snapshot(factory) == before
    return info.value


SAMPLE_PAPER = (DATA / "paper_u3.yaml").read_text(encoding="utf-8")


def test_questions_must_add_up_to_the_maximum(session_factory: Factory, tmp_path: Path) -> None:
    error = bad_paper(session_factory, tmp_path, SAMPLE_PAPER.replace("max_mark: 20", "max_mark: 18"))
    assert [str(p) for p in error.problems] == [
        "line 8: the questions add up to 20 points but max_mark is 18"
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("max: 4.5}", "max: 4.25}", 15, "max “4.25” is not in whole or half points"),
        ("max: 3, step: 1}", "max: 3, step: 0.25}", 17, "step must be 0.5 or 1"),
        ("max: 3, step: 1}", "max: 3, step: 2}", 17, "step must be 0.5 or 1"),
        ("max: 4.5}", "max: 4.5, step: 1}", 15, "max 4.5 is not a multiple of its step 1"),
        ("max: 5}", "max: -5}", 14, "must be more than 0"),
        ("max: 5}", "maxi: 5}", 14, "unknown key “maxi”"),
        ("Exercice 2 – Fonctions", "Exercice 1 – Suites", 14, "already on line 13"),
        ("code: U3", "code: U 3", 4, "paper code “U 3”"),
        ("pages: 4", "pages: 0", 9, "pages must be a whole number from 1 to 64"),
        ("date: 2024-05-15", "date: 15.05.2024", 6, "must be written YYYY-MM-DD or DD/MM/YYYY"),
        ("2024-05-22T08:00:00+02:00", "2024-05-22T08:00:00", 10, "needs its time zone"),
        ("2024-06-09T20:00:00+02:00", "2024-05-01T20:00:00+02:00", 11, "must come after window_opens"),
        ("title: Mathématiques", "titel: Mathématiques", 5, "unknown key “titel”"),
    ],
)
def test_bad_paper_line(
    session_factory: Factory, tmp_path: Path, old: str, new: str, line: int, reason: str
) -> None:
    assert old in SAMPLE_PAPER
    error = bad_paper(session_factory, tmp_path, SAMPLE_PAPER.replace(old, new))
    assert line in [p.line for p in error.problems], str(error)
    assert reason in str(error)


def test_paper_missing_key_and_bad_yaml(session_factory: Factory, tmp_path: Path) -> None:
    no_questions = SAMPLE_PAPER.split("questions:")[0]
    assert "“questions” is missing" in str(bad_paper(session_factory, tmp_path, no_questions))
    broken = SAMPLE_PAPER.replace('  - {label: "Exercice 2', '  - {label: "Exercice 2" [')
    error = bad_paper(session_factory, tmp_path, broken)
    assert "not valid YAML" in str(error) and error.problems[0].line == 14
    assert "empty" in str(bad_paper(session_factory, tmp_path, ""))


def test_paper_update_keeps_question_rows(session_factory: Factory, tmp_path: Path) -> None:
    import_paper(session_factory, DATA / "paper_u3.yaml")
    with session_factory() as db:
        ids = list(db.scalars(select(Question.id).order_by(Question.position)))
    changed = SAMPLE_PAPER.replace("max: 4}", "max: 3}").replace("max: 5}", "max: 6}")
    changed = changed.replace("title: Mathématiques", "title: Mathématiques appliquées")
    summary = import_paper(session_factory, paper_yaml(tmp_path, changed))
    assert summary.outcome == "updated"
    with session_factory() as db:
        questions = db.scalars(select(Question).order_by(Question.position)).all()
        assert [q.id for q in questions] == ids
        assert [q.max_points for q in questions][:2] == [3, 6]
        assert db.scalars(select(Paper.title)).one() == "Mathématiques appliquées"
        assert count(session_factory, ExamSession) == 1
    fewer = SAMPLE_PAPER.replace("max_mark: 20", "max_mark: 17").split('  - {label: "Exercice 5')[0]
    import_paper(session_factory, paper_yaml(tmp_path, fewer))
    assert count(session_factory, Question) == 4


def test_locked_bareme_cannot_change(session_factory: Factory, tmp_path: Path) -> None:
    import_paper(session_factory, DATA / "paper_u3.yaml")
    with session_factory() as db:
        db.scalars(select(Paper)).one().scheme_locked_at = datetime(2024, 5, 21, 14, 0, tzinfo=UTC)
        db.commit()
    error = bad_paper(
        session_factory, tmp_path, SAMPLE_PAPER.replace("max: 4}", "max: 3}").replace("max: 5}", "max: 6}")
    )
    assert "locked" in str(error)
    # The same barème re-imported is fine: nothing changes.
    assert not import_paper(session_factory, DATA / "paper_u3.yaml").changed


# --------------------------------------------------------------------------------------------
# The command line


def _massicot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASSICOT_")}
    env["MASSICOT_DATA"] = str(cwd / "data")
    command = [sys.executable, "-c", "from massicot.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_cli_imports_into_the_default_database(tmp_path: Path) -> None:
    paper = _massicot("office", "import", "paper", str(DATA / "paper_u3.yaml"), cwd=tmp_path)
    assert paper.returncode == 0, paper.stderr
    done = _massicot("office", "import", "candidates", str(DATA / "candidates.csv"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "60 created" in done.stdout
    again = _massicot("office", "import", "candidates", str(DATA / "candidates.csv"), cwd=tmp_path)
    assert "nothing to change" in again.stdout
    assert (tmp_path / "data" / "massicot.sqlite3").is_file()


def test_cli_error_lists_bad_lines_with_exit_code_2(fresh_database, tmp_path: Path) -> None:
    url = fresh_database("sqlite")
    assert (
        _massicot(
            "office", "import", "paper", str(DATA / "paper_u3.yaml"), "--db", url, cwd=tmp_path
        ).returncode
        == 0
    )
    bad = write_csv(tmp_path / "c.csv", [row(), row(registration="02410000002", centre_uai="0130040"), row()])
    result = _massicot("office", "import", "candidates", str(bad), "--db", url, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert (
        lines[0]
        == "Error: c.csv: 2 problems, nothing was imported. Correct the file and run the same command again."
    )
    assert lines[1].strip().startswith("line 3: centre_uai “0130040” is not a UAI code")
    assert lines[2].strip() == "line 4: registration number 02410000001 is already on line 2"
