"""Office imports: the candidate list (CSV or XLSX) and a paper with its barème (YAML).

Reading and parsing are pure: a file in, plain dataclasses and a list of problems out, each
problem with its line number (the row number for XLSX). `apply_candidates` / `apply_paper`
check what needs the database (paper codes, sessions) and write everything in ONE
transaction: a file with any problem imports nothing, and importing the same file again
changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from correction_server.db import transaction
from correction_server.models import (
    Attendance,
    Candidate,
    Centre,
    Establishment,
    ExamSession,
    Paper,
    Question,
    QuestionMark,
    RollEntry,
)
from correction_server.models.exam import REGISTRATION_RE, UAI_RE
from correction_server.office.spreadsheet_numbers import (
    NumberCell,
    Reading,
    lost_zeros_of,
    read_code,
    read_digits,
    read_uai,
)
from massicot_core.errors import UserError

CANDIDATE_COLUMNS = (
    "registration",
    "surname",
    "given_names",
    "birth_date",
    "establishment_uai",
    "establishment_name",
    "centre_uai",
    "centre_name",
    "papers",
)
OPTIONAL_CANDIDATE_COLUMNS = ("session",)
# How the office states that every registration number has the same number of digits (the
# command line's option): only then can leading zeros a spreadsheet dropped be put back.
REGISTRATION_DIGITS_OPTION = "--registration-digits"
PAPER_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,11}$")
# Keep IN (...) lists well under every database's parameter limit.
_CHUNK = 500


# ---------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the file. line 0 means the file as a whole."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class ImportRejected(UserError):
    """The file has problems: nothing was imported. The message lists every bad line."""

    def __init__(self, origin: str, problems: Iterable[Problem]) -> None:
        self.origin = origin
        self.problems = sorted(set(problems))
        count = len(self.problems)
        head = (
            f"{origin}: {count} problem{'s' if count != 1 else ''}, nothing was imported. "
            "Correct the file and run the same command again."
        )
        super().__init__(head + "".join(f"\n  {p}" for p in self.problems))


# ---------------------------------------------------------------------------------------------
# Reading tables (CSV, XLSX)


@dataclass(frozen=True)
class TableRow:
    line: int
    values: dict[str, str]
    # The cells a workbook stored as numbers, by column (their text is in values too): an
    # identifier column needs to know, since the number may have lost leading zeros.
    # None for a CSV row, or a workbook row without numbers.
    numbers: dict[str, NumberCell] | None = None


@dataclass(frozen=True)
class Table:
    """The cells of a CSV or XLSX file as text, the header normalised, with line numbers."""

    origin: str
    header_line: int
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    problems: tuple[Problem, ...] = ()


def read_table(path: Path, header_hint: str | None = None) -> Table:
    """Read a .csv (UTF-8) or .xlsx file. File-level trouble raises ImportRejected at once.

    header_hint: a column name; the first line holding it is the header and lines above it
    (a title, a date: common in office spreadsheets) are skipped.
    """
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_csv(path.read_bytes(), path.name, header_hint)
    if suffix == ".xlsx":
        return read_xlsx(path, header_hint)
    raise UserError(f"{path.name}: give a .csv file (saved as CSV UTF-8) or an .xlsx workbook")


def parse_csv(data: bytes, origin: str, header_hint: str | None = None) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            origin,
            [
                Problem(
                    line,
                    "the file is not UTF-8 text; in your spreadsheet use “Save as” and choose "
                    "“CSV UTF-8”, then import that file",
                )
            ],
        ) from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        raise ImportRejected(origin, [Problem(0, "the file is empty: the first line must name the columns")])
    # Spreadsheets saving CSV in French use ';' between columns; decide from the header line.
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            records.append((start, cells))
    except csv.Error as exc:
        raise ImportRejected(origin, [Problem(reader.line_num, f"the CSV cannot be read: {exc}")]) from None
    return _table(origin, records, header_hint)


def read_xlsx(path: Path, header_hint: str | None = None) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise ImportRejected(
            path.name,
            [
                Problem(
                    0,
                    "the file is not an Excel workbook (.xlsx); open it in your spreadsheet and save "
                    "it as .xlsx, or as “CSV UTF-8” with a .csv name",
                )
            ],
        ) from None
    records: list[tuple[int, list[str]]] = []
    numbers: dict[int, dict[int, NumberCell]] = {}
    try:
        sheet = workbook.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(), start=1):
            values = [cell.value for cell in cells]
            records.append((line, [_cell_text(v) for v in values]))
            found = {
                index: NumberCell.of(value, cells[index].number_format)
                for index, value in enumerate(values)
                if isinstance(value, int | float) and not isinstance(value, bool)
            }
            if found:
                numbers[line] = found
    finally:
        workbook.close()
    return _table(path.name, records, header_hint, numbers)


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text the user sees (dates as YYYY-MM-DD, 12.0 as 12)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(
    origin: str,
    records: Sequence[tuple[int, list[str]]],
    header_hint: str | None = None,
    numbers: dict[int, dict[int, NumberCell]] | None = None,
) -> Table:
    """numbers: by line, then by column index, the cells a workbook stored as numbers."""
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise ImportRejected(origin, [Problem(0, "the file is empty: the first line must name the columns")])
    if header_hint is not None:
        at = next((i for i, (_, cells) in enumerate(records) if header_hint in map(_column_name, cells)), 0)
        records = records[at:]
    header_line, header_cells = records[0]
    while header_cells and not header_cells[-1].strip():  # trailing empty spreadsheet columns
        header_cells = header_cells[:-1]
    columns = tuple(_column_name(c) for c in header_cells)
    problems: list[Problem] = []
    rows: list[TableRow] = []
    for line, cells in records[1:]:
        extra = [c for c in cells[len(columns) :] if c.strip()]
        if extra:
            problems.append(
                Problem(
                    line,
                    f"{len(columns) + len(extra)} values but the header (line {header_line}) names "
                    f"{len(columns)} columns",
                )
            )
            continue
        padded = [*cells, *[""] * (len(columns) - len(cells))]
        values = {col: padded[i].strip() for i, col in enumerate(columns)}
        found = numbers.get(line) if numbers else None
        if found:
            rows.append(TableRow(line, values, {columns[i]: c for i, c in found.items() if i < len(columns)}))
        else:
            rows.append(TableRow(line, values))
    return Table(origin, header_line, columns, tuple(rows), tuple(problems))


def _column_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


# ---------------------------------------------------------------------------------------------
# Candidates


@dataclass(frozen=True)
class CandidateLine:
    line: int
    registration: str
    surname: str
    given_names: str
    birth_date: date
    establishment_uai: str | None
    establishment_name: str
    centre_uai: str
    centre_name: str
    papers: tuple[str, ...]
    session: str | None


@dataclass(frozen=True)
class ParsedCandidates:
    origin: str
    lines: tuple[CandidateLine, ...]
    problems: tuple[Problem, ...]
    # Lines whose spreadsheet numbers got their leading zeros back: imported, but to be checked.
    notes: tuple[Problem, ...] = ()


def parse_candidates(table: Table, registration_digits: int | None = None) -> ParsedCandidates:
    """Check every line of a candidate table; keep the good lines and every problem found.

    registration_digits: the number of digits every registration number has, when the office
    knows it; a registration a workbook stored as a number is refused without it.
    """
    problems = list(table.problems) + _header_problems(table)
    if any(c not in table.columns for c in CANDIDATE_COLUMNS):
        return ParsedCandidates(table.origin, (), tuple(problems))
    if not table.rows and not problems:
        problems.append(Problem(0, "the file names its columns but lists no candidate"))
    lines: list[CandidateLine] = []
    notes: list[Problem] = []
    first_seen: dict[str, int] = {}
    names: dict[tuple[str, str], tuple[str, int]] = {}
    for row in table.rows:
        refused: dict[str, str] = {}
        if row.numbers:  # only workbook cells: a CSV's are text, taken as written
            row, refused, row_notes = _numeric_identifiers(row, registration_digits)
            notes += row_notes
        parsed, row_problems = _parse_candidate_row(row, refused)
        # Checked on the raw number, so a duplicate is named even when its line has other faults.
        registration = row.values["registration"].upper()
        if registration in first_seen:
            row_problems.append(
                Problem(
                    row.line,
                    f"registration number {registration} is already on line {first_seen[registration]}",
                )
            )
        elif REGISTRATION_RE.match(registration):
            first_seen[registration] = row.line
        if parsed is not None:
            row_problems += _name_conflicts(parsed, names)
        problems += row_problems
        if parsed is not None and not row_problems:
            lines.append(parsed)
    return ParsedCandidates(table.origin, tuple(lines), tuple(problems), tuple(notes))


def _numeric_identifiers(
    row: TableRow, registration_digits: int | None
) -> tuple[TableRow, dict[str, str], list[Problem]]:
    """Read the identifier cells a workbook stored as numbers: the row with their text, the
    refused columns with why, and a note for each identifier whose zeros were put back."""
    values = dict(row.values)
    refused: dict[str, str] = {}
    notes: list[Problem] = []
    for column, cell in (row.numbers or {}).items():
        reading = _read_identifier(column, cell, registration_digits)
        if reading is None:
            continue
        if reading.refusal:
            refused[column] = reading.refusal
            continue
        values[column] = reading.text
        if reading.note:
            notes.append(Problem(row.line, reading.note))
    return TableRow(row.line, values, row.numbers), refused, notes


def _read_identifier(column: str, cell: NumberCell, registration_digits: int | None) -> Reading | None:
    if column == "registration":
        return read_digits(column, cell, registration_digits, REGISTRATION_DIGITS_OPTION)
    if column in ("centre_uai", "establishment_uai"):
        return read_uai(column, cell)
    if column == "papers":
        return read_code(column, cell)
    return None  # not an identifier (a date, a name): its text is what the user sees


def _header_problems(table: Table) -> list[Problem]:
    line = table.header_line
    known = CANDIDATE_COLUMNS + OPTIONAL_CANDIDATE_COLUMNS
    problems = [
        Problem(line, f"unknown column “{c or '(empty)'}”; the columns are: {', '.join(known)}")
        for c in table.columns
        if c not in known
    ]
    problems += [
        Problem(line, f"column “{c}” appears twice")
        for c in sorted(set(table.columns))
        if table.columns.count(c) > 1
    ]
    missing = [c for c in CANDIDATE_COLUMNS if c not in table.columns]
    if missing:
        problems.append(
            Problem(line, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
        )
    return problems


def _parse_candidate_row(
    row: TableRow, refused: dict[str, str] | None = None
) -> tuple[CandidateLine | None, list[Problem]]:
    """refused: columns already refused (spreadsheet numbers), with why; not checked again."""
    v = row.values
    refused = refused or {}
    problems: list[Problem] = [Problem(row.line, reason) for reason in refused.values()]

    def bad(reason: str) -> None:
        problems.append(Problem(row.line, reason))

    registration = v["registration"].upper()
    if "registration" not in refused and not REGISTRATION_RE.match(registration):
        bad(f"registration number “{v['registration']}” must be 4 to 16 capital letters or digits")
    for column in ("surname", "given_names"):
        if not v[column]:
            bad(f"{column} is empty")
    birth_date = None
    if not v["birth_date"]:
        bad("birth_date is empty")
    else:
        try:
            birth_date = parse_date(v["birth_date"])
        except ValueError as exc:
            bad(f"birth_date {exc}")
        else:
            if birth_date >= date.today():
                bad(f"birth_date {v['birth_date']} is not in the past")
    centre_uai = v["centre_uai"].upper()
    if "centre_uai" not in refused and not UAI_RE.match(centre_uai):
        bad(
            f"centre_uai “{v['centre_uai']}” is not a UAI code: 7 digits then a capital letter, e.g. 0130040Y"
        )
    establishment_uai = v["establishment_uai"].upper() or None
    if establishment_uai is None:
        if v["establishment_name"]:
            bad("establishment_name is given but establishment_uai is empty")
    elif "establishment_uai" not in refused and not UAI_RE.match(establishment_uai):
        bad(
            f"establishment_uai “{v['establishment_uai']}” is not a UAI code: 7 digits then a capital "
            "letter, e.g. 0130040Y"
        )
    papers = tuple(dict.fromkeys(p.upper() for p in re.split(r"[\s;,]+", v["papers"]) if p))
    if "papers" in refused:
        papers = ()
    elif not papers:
        bad("papers is empty: list the paper codes the candidate sits, e.g. “U3 U4”")
    for code in papers:
        if not PAPER_CODE_RE.match(code):
            bad(f"“{code}” in papers is not a paper code (letters, digits and '-', e.g. U3)")
    if problems:
        return None, problems
    return (
        CandidateLine(
            line=row.line,
            registration=registration,
            surname=v["surname"],
            given_names=v["given_names"],
            birth_date=birth_date,
            establishment_uai=establishment_uai,
            establishment_name=v["establishment_name"],
            centre_uai=centre_uai,
            centre_name=v["centre_name"],
            papers=papers,
            session=v.get("session") or None,
        ),
        [],
    )


def _name_conflicts(line: CandidateLine, names: dict[tuple[str, str], tuple[str, int]]) -> list[Problem]:
    """The same UAI must carry the same name on every line (else which one is right?)."""
    problems = []
    for kind, uai, name in (
        ("centre", line.centre_uai, line.centre_name),
        ("establishment", line.establishment_uai, line.establishment_name),
    ):
        if not uai or not name:
            continue
        seen = names.setdefault((kind, uai), (name, line.line))
        if seen[0] != name:
            problems.append(
                Problem(line.line, f"{kind} {uai} is named “{name}” here but “{seen[0]}” on line {seen[1]}")
            )
    return problems


def parse_date(text: str) -> date:
    """YYYY-MM-DD or DD/MM/YYYY. The ValueError says what is wrong, to follow the column name."""
    match_iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    match_fr = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match_iso:
        year, month, day = (int(x) for x in match_iso.groups())
    elif match_fr:
        day, month, year = (int(x) for x in match_fr.groups())
    else:
        raise ValueError(f"“{text}” must be written YYYY-MM-DD or DD/MM/YYYY")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"“{text}” is not a real date") from None


@dataclass
class CandidateImportSummary:
    candidates_created: int = 0
    candidates_updated: int = 0
    candidates_unchanged: int = 0
    centres_created: int = 0
    establishments_created: int = 0
    names_updated: int = 0
    roll_added: int = 0
    roll_removed: int = 0
    # Lines whose spreadsheet numbers got their leading zeros back (ParsedCandidates.notes).
    notes: tuple[Problem, ...] = ()

    @property
    def changed(self) -> bool:
        return any(
            (
                self.candidates_created,
                self.candidates_updated,
                self.centres_created,
                self.establishments_created,
                self.names_updated,
                self.roll_added,
                self.roll_removed,
            )
        )

    def __str__(self) -> str:
        return self._counts() + self._notes()

    def _notes(self) -> str:
        if not self.notes:
            return ""
        count = len(self.notes)
        return (
            f"\n{count} line{'s' if count != 1 else ''} to check (the spreadsheet had dropped "
            "leading zeros, put back):" + "".join(f"\n  {note}" for note in sorted(self.notes))
        )

    def _counts(self) -> str:
        total = self.candidates_created + self.candidates_updated + self.candidates_unchanged
        if not self.changed:
            return f"{total} candidates read: nothing to change, the database already holds this file."
        renamed = (
            f" {self.names_updated} centre or establishment names updated." if self.names_updated else ""
        )
        return (
            f"{total} candidates read: {self.candidates_created} created, {self.candidates_updated} updated, "
            f"{self.candidates_unchanged} unchanged; {self.centres_created} centres and "
            f"{self.establishments_created} establishments created; roll entries: {self.roll_added} added, "
            f"{self.roll_removed} removed.{renamed}"
        )


def apply_candidates(factory: sessionmaker[Session], parsed: ParsedCandidates) -> CandidateImportSummary:
    """Write the candidates, their centres, establishments and roll entries in one transaction.

    Problems found in the file or against the database raise ImportRejected and nothing is written.
    Candidates absent from the file are left alone (a file may cover one centre only). A paper no
    longer listed for a candidate is removed from his roll only while nothing was recorded on it.
    """
    with transaction(factory) as db:
        problems = list(parsed.problems)
        sessions = {s.name: s for s in db.scalars(select(ExamSession))}
        papers = {(p.session_id, p.code): p for p in db.scalars(select(Paper))}
        session_of, session_problems = _resolve_sessions(parsed.lines, sessions)
        problems += session_problems
        for line in parsed.lines:
            exam = session_of.get(line.line)
            if exam is None:
                continue
            unknown = [c for c in line.papers if (exam.id, c) not in papers]
            if unknown:
                known = sorted(code for (sid, code) in papers if sid == exam.id)
                problems.append(
                    Problem(
                        line.line,
                        f"paper {', '.join(unknown)} does not exist in session “{exam.name}” "
                        f"(known: {', '.join(known) or 'none yet, import the papers first'})"
                        + _zeros_hint(unknown, known),
                    )
                )
        if problems:
            raise ImportRejected(parsed.origin, problems)
        summary = CandidateImportSummary()
        writer = _CandidateWriter(db, summary)
        writer.load(parsed.lines)
        by_session: dict[int, set[int]] = {}
        for (session_id, _), paper in papers.items():
            by_session.setdefault(session_id, set()).add(paper.id)
        wanted = {
            line.line: {papers[(session_of[line.line].id, code)].id for code in line.papers}
            for line in parsed.lines
        }
        session_papers = {line.line: by_session[session_of[line.line].id] for line in parsed.lines}
        paper_codes = {paper.id: paper.code for paper in papers.values()}
        problems += writer.write(parsed.lines, wanted, session_papers, paper_codes)
        if problems:
            raise ImportRejected(parsed.origin, problems)
        summary.notes = parsed.notes
        return summary


def _zeros_hint(unknown: Sequence[str], known: list[str]) -> str:
    """A paper code such as 0101 that a spreadsheet turned into the number 101 is named as such."""
    for code in unknown:
        meant = lost_zeros_of(code, known)
        if meant:
            return (
                f"; {code} may be {meant} with its leading zeros dropped by a spreadsheet: format the "
                "papers column as text in the spreadsheet and export the file again"
            )
    return ""


def _resolve_sessions(
    lines: Sequence[CandidateLine], sessions: dict[str, ExamSession]
) -> tuple[dict[int, ExamSession], list[Problem]]:
    resolved: dict[int, ExamSession] = {}
    problems: list[Problem] = []
    default: ExamSession | None = None
    if any(line.session is None for line in lines):
        if not sessions:
            problems.append(
                Problem(
                    0,
                    "the database has no exam session yet: import the papers first "
                    "(massicot office import paper FILE.yaml)",
                )
            )
        elif len(sessions) > 1:
            problems.append(
                Problem(
                    0,
                    f"the database holds several sessions ({', '.join(sorted(sessions))}): add a "
                    "“session” column naming the session on every line",
                )
            )
        else:
            default = next(iter(sessions.values()))
    for line in lines:
        if line.session is None:
            if default is not None:
                resolved[line.line] = default
        elif line.session in sessions:
            resolved[line.line] = sessions[line.session]
        else:
            problems.append(
                Problem(
                    line.line,
                    f"session “{line.session}” does not exist "
                    f"(known: {', '.join(sorted(sessions)) or 'none'})",
                )
            )
    return resolved, problems


@dataclass
class _CandidateWriter:
    """Writes candidates and roll entries with bulk statements, not one ORM object per line: an
    académie's list runs to tens of thousands of lines, and the ORM unit of work made a
    20,000-line file take ~35 s here."""

    db: Session
    summary: CandidateImportSummary
    centres: dict[str, Centre] = field(default_factory=dict)
    establishments: dict[str, Establishment] = field(default_factory=dict)
    # registration -> (id, the stored values compared with the file's)
    known: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    # candidate id -> paper id -> (roll entry id, attendance)
    roll: dict[int, dict[int, tuple[int, Attendance]]] = field(default_factory=dict)

    def load(self, lines: Sequence[CandidateLine]) -> None:
        """Fetch everything the file refers to up front: a few queries instead of some per line."""
        for chunk in _chunks({line.centre_uai for line in lines}):
            self.centres.update(
                (c.uai, c) for c in self.db.scalars(select(Centre).where(Centre.uai.in_(chunk)))
            )
        for chunk in _chunks({line.establishment_uai for line in lines if line.establishment_uai}):
            self.establishments.update(
                (e.uai, e) for e in self.db.scalars(select(Establishment).where(Establishment.uai.in_(chunk)))
            )
        columns = [getattr(Candidate, name) for name in _CANDIDATE_FIELDS]
        for chunk in _chunks({line.registration for line in lines}):
            query = select(Candidate.id, Candidate.registration, *columns).where(
                Candidate.registration.in_(chunk)
            )
            for candidate_id, registration, *values in self.db.execute(query):
                self.known[registration] = (candidate_id, dict(zip(_CANDIDATE_FIELDS, values, strict=True)))
        for chunk in _chunks(candidate_id for candidate_id, _ in self.known.values()):
            query = select(
                RollEntry.id, RollEntry.candidate_id, RollEntry.paper_id, RollEntry.attendance
            ).where(RollEntry.candidate_id.in_(chunk))
            for entry_id, candidate_id, paper_id, attendance in self.db.execute(query):
                self.roll.setdefault(candidate_id, {})[paper_id] = (entry_id, attendance)

    def write(
        self,
        lines: Sequence[CandidateLine],
        wanted: dict[int, set[int]],
        session_papers: dict[int, set[int]],
        paper_codes: dict[int, str],
    ) -> list[Problem]:
        """wanted / session_papers: by file line, the paper ids listed / all paper ids of its session."""
        for line in lines:
            self._place(Centre, self.centres, line.centre_uai, line.centre_name)
            if line.establishment_uai:
                self._place(
                    Establishment, self.establishments, line.establishment_uai, line.establishment_name
                )
        self.db.flush()  # ids of new centres and establishments
        new_rows, updates = [], []
        for line in lines:
            values = {
                "surname": line.surname,
                "given_names": line.given_names,
                "birth_date": line.birth_date,
                "centre_id": self.centres[line.centre_uai].id,
                "establishment_id": self.establishments[line.establishment_uai].id
                if line.establishment_uai
                else None,
            }
            known = self.known.get(line.registration)
            if known is None:
                new_rows.append({"registration": line.registration, **values})
            elif known[1] != values:
                updates.append({"id": known[0], **values})
            else:
                self.summary.candidates_unchanged += 1
        self.summary.candidates_created, self.summary.candidates_updated = len(new_rows), len(updates)
        ids = {registration: known[0] for registration, known in self.known.items()}
        if new_rows:
            inserted = self.db.execute(
                insert(Candidate).returning(
                    Candidate.registration, Candidate.id, sort_by_parameter_order=True
                ),
                new_rows,
            )
            ids.update((registration, new_id) for registration, new_id in inserted)
        if updates:
            self.db.execute(update(Candidate), updates)
        return self._write_roll(lines, ids, wanted, session_papers, paper_codes)

    def _write_roll(
        self,
        lines: Sequence[CandidateLine],
        ids: dict[str, int],
        wanted: dict[int, set[int]],
        session_papers: dict[int, set[int]],
        paper_codes: dict[int, str],
    ) -> list[Problem]:
        problems: list[Problem] = []
        added: list[dict[str, Any]] = []
        removed: list[int] = []
        for line in lines:
            candidate_id = ids[line.registration]
            held = self.roll.get(candidate_id, {})
            added += [
                {"candidate_id": candidate_id, "paper_id": paper_id, "attendance": Attendance.REGISTERED}
                for paper_id in sorted(wanted[line.line] - held.keys())
            ]
            for paper_id, (entry_id, attendance) in sorted(held.items()):
                if paper_id in wanted[line.line] or paper_id not in session_papers[line.line]:
                    continue
                if attendance is not Attendance.REGISTERED:
                    problems.append(
                        Problem(
                            line.line,
                            f"candidate {line.registration} is already marked {attendance.value} for paper "
                            f"{paper_codes[paper_id]}: that paper cannot be taken off his list",
                        )
                    )
                else:
                    removed.append(entry_id)
        if problems:
            return problems
        if added:
            self.db.execute(insert(RollEntry), added)
        for chunk in _chunks(removed):
            self.db.execute(delete(RollEntry).where(RollEntry.id.in_(chunk)))
        self.summary.roll_added, self.summary.roll_removed = len(added), len(removed)
        return []

    def _place(self, model: type, known: dict[str, Any], uai: str, name: str) -> Any:
        place = known.get(uai)
        if place is None:
            place = model(uai=uai, name=name)
            self.db.add(place)
            known[uai] = place
            if model is Centre:
                self.summary.centres_created += 1
            else:
                self.summary.establishments_created += 1
        elif name and place.name != name:
            place.name = name
            self.summary.names_updated += 1
        return place


_CANDIDATE_FIELDS = ("surname", "given_names", "birth_date", "centre_id", "establishment_id")


def _chunks(items: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(items)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def import_candidates(
    factory: sessionmaker[Session], path: Path, registration_digits: int | None = None
) -> CandidateImportSummary:
    table = read_table(path, header_hint="registration")
    return apply_candidates(factory, parse_candidates(table, registration_digits))


# ---------------------------------------------------------------------------------------------
# Paper and barème


PAPER_KEYS = (
    "session",
    "code",
    "title",
    "date",
    "duration_minutes",
    "max_mark",
    "pages",
    "window_opens",
    "window_closes",
    "questions",
)
REQUIRED_PAPER_KEYS = ("session", "code", "title", "max_mark", "questions")
QUESTION_KEYS = ("label", "max", "step")


@dataclass(frozen=True)
class QuestionSpec:
    label: str
    max_points: Decimal
    step: Decimal


@dataclass(frozen=True)
class PaperSpec:
    session: str
    code: str
    title: str
    sitting_date: date | None
    duration_minutes: int
    max_mark: Decimal
    pages_per_copy: int
    window_opens: datetime | None
    window_closes: datetime | None
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True)
class ParsedPaper:
    origin: str
    paper: PaperSpec | None
    problems: tuple[Problem, ...]


def parse_paper(text: str, origin: str) -> ParsedPaper:
    """Check a paper YAML file; every problem carries the line of the key it is about."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        reason = getattr(exc, "problem", None) or str(exc)
        return ParsedPaper(origin, None, (Problem(line, f"this is not valid YAML: {reason}"),))
    if data is None:
        return ParsedPaper(origin, None, (Problem(0, "the file is empty"),))
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return ParsedPaper(origin, None, (Problem(1, "the file must be a list of “key: value” lines"),))
    lines = _key_lines(node)
    problems: list[Problem] = []
    checker = _PaperChecker(lines, problems)
    for key in data:
        if key not in PAPER_KEYS:
            problems.append(
                Problem(lines.get(key, 0), f"unknown key “{key}”; the keys are: {', '.join(PAPER_KEYS)}")
            )
    for key in REQUIRED_PAPER_KEYS:
        if data.get(key) in (None, ""):
            problems.append(Problem(lines.get(key, 0), f"“{key}” is missing"))
    session = checker.text(data, "session")
    code = checker.text(data, "code").upper()
    if code and not PAPER_CODE_RE.match(code):
        checker.bad("code", f"paper code “{code}” must be letters, digits and '-', at most 12, e.g. U3")
    title = checker.text(data, "title")
    sitting_date = checker.day(data, "date")
    duration = checker.whole(data, "duration_minutes", default=0, low=0, high=24 * 60)
    pages = checker.whole(data, "pages", default=4, low=1, high=64)
    max_mark = checker.points(data, "max_mark")
    opens = checker.moment(data, "window_opens")
    closes = checker.moment(data, "window_closes")
    if opens and closes and closes <= opens:
        checker.bad("window_closes", "window_closes must come after window_opens")
    questions = _parse_questions(data.get("questions"), node, lines.get("questions", 0), problems)
    if max_mark is not None and questions and not problems:
        total = sum((q.max_points for q in questions), Decimal(0))
        if total != max_mark:
            checker.bad(
                "max_mark",
                f"the questions add up to {_fmt(total)} points but max_mark is {_fmt(max_mark)}",
            )
    if problems:
        return ParsedPaper(origin, None, tuple(problems))
    spec = PaperSpec(
        session=session,
        code=code,
        title=title,
        sitting_date=sitting_date,
        duration_minutes=duration,
        max_mark=max_mark,
        pages_per_copy=pages,
        window_opens=opens,
        window_closes=closes,
        questions=tuple(questions),
    )
    return ParsedPaper(origin, spec, ())


def _key_lines(node: yaml.MappingNode) -> dict[Any, int]:
    return {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass
class _PaperChecker:
    """Turns YAML values into typed values, recording a Problem at the key's line when wrong."""

    lines: dict[Any, int]
    problems: list[Problem]

    def bad(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.lines.get(key, 0), reason))

    def text(self, data: dict, key: str) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if isinstance(value, dict | list):
            self.bad(key, f"“{key}” must be a single value")
            return ""
        return str(value).strip()

    def day(self, data: dict, key: str) -> date | None:
        value = data.get(key)
        if value is None or isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return parse_date(str(value).strip())
        except ValueError as exc:
            self.bad(key, f"{key} {exc}")
            return None

    def whole(self, data: dict, key: str, default: int, low: int, high: int) -> int:
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(key, f"{key} must be a whole number from {low} to {high}, not “{value}”")
            return default
        return value

    def points(self, data: dict, key: str) -> Decimal | None:
        if data.get(key) is None:
            return None
        value, reason = to_points(data[key])
        if reason:
            self.bad(key, f"{key} {reason}")
        return value

    def moment(self, data: dict, key: str) -> datetime | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, datetime):
            try:
                value = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.bad(key, f"{key} “{value}” must be a date and time like 2024-05-22T08:00:00+02:00")
                return None
        if value.tzinfo is None:
            self.bad(key, f"{key} needs its time zone, e.g. 2024-05-22T08:00:00+02:00")
            return None
        return value


def to_points(value: Any) -> tuple[Decimal | None, str | None]:
    """A mark in whole or half points (2, 2.5, "2,5"); (None, reason) when it is not one."""
    if isinstance(value, bool):
        return None, f"“{value}” is not a number"
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None, f"“{value}” is not a number"
    if not number.is_finite() or number <= 0:
        return None, f"“{value}” must be more than 0"
    if number * 2 != (number * 2).to_integral_value():
        return None, f"“{value}” is not in whole or half points"
    return number, None


def _parse_questions(
    value: Any, root: yaml.MappingNode, line: int, problems: list[Problem]
) -> list[QuestionSpec]:
    if value is None:
        return []
    items_node = next((v for k, v in root.value if getattr(k, "value", None) == "questions"), None)
    if not isinstance(value, list) or not isinstance(items_node, yaml.SequenceNode) or not value:
        problems.append(
            Problem(line, "questions must be a list of lines “- {label: ..., max: ..., step: ...}”")
        )
        return []
    questions: list[QuestionSpec] = []
    labels: dict[str, int] = {}
    for item, item_node in zip(value, items_node.value, strict=True):
        item_line = item_node.start_mark.line + 1
        if not isinstance(item, dict) or not isinstance(item_node, yaml.MappingNode):
            problems.append(Problem(item_line, "a question must have label, max and optionally step"))
            continue
        lines = _key_lines(item_node)
        before = len(problems)
        for key in item:
            if key not in QUESTION_KEYS:
                problems.append(
                    Problem(
                        lines.get(key, item_line), f"unknown key “{key}” in a question; use label, max, step"
                    )
                )
        label = str(item.get("label") or "").strip()
        if not label:
            problems.append(Problem(item_line, "the question has no label"))
        elif label in labels:
            problems.append(Problem(item_line, f"question “{label}” is already on line {labels[label]}"))
        else:
            labels[label] = item_line
        if item.get("max") is None:
            problems.append(Problem(item_line, f"question “{label}” has no max"))
            max_points = None
        else:
            max_points, reason = to_points(item["max"])
            if reason:
                problems.append(Problem(lines.get("max", item_line), f"question “{label}”: max {reason}"))
        step, reason = to_points(item.get("step", "0.5"))
        if reason or step not in (Decimal("0.5"), Decimal(1)):
            problems.append(
                Problem(lines.get("step", item_line), f"question “{label}”: step must be 0.5 or 1")
            )
        elif max_points is not None and max_points % step:
            problems.append(
                Problem(
                    lines.get("max", item_line),
                    f"question “{label}”: max {_fmt(max_points)} is not a multiple of its step {_fmt(step)}",
                )
            )
        if len(problems) == before:
            questions.append(QuestionSpec(label=label, max_points=max_points, step=step))
    return questions


@dataclass(frozen=True)
class PaperImportSummary:
    session: str
    code: str
    outcome: str  # "created", "updated" or "unchanged"
    questions: int

    @property
    def changed(self) -> bool:
        return self.outcome != "unchanged"

    def __str__(self) -> str:
        if not self.changed:
            return (
                f"paper {self.code} of “{self.session}”: nothing to change, "
                "the database already holds this file."
            )
        return f"paper {self.code} of “{self.session}” {self.outcome}, barème of {self.questions} questions."


def apply_paper(factory: sessionmaker[Session], parsed: ParsedPaper) -> PaperImportSummary:
    """Create or update the session, the paper and its barème in one transaction."""
    if parsed.problems or parsed.paper is None:
        raise ImportRejected(parsed.origin, parsed.problems)
    spec = parsed.paper
    with transaction(factory) as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.name == spec.session)).one_or_none()
        created = exam is None
        if exam is None:
            exam = ExamSession(name=spec.session)
            db.add(exam)
            db.flush()
        paper = db.scalars(
            select(Paper).where(Paper.session_id == exam.id, Paper.code == spec.code)
        ).one_or_none()
        if paper is None:
            created = True
            paper = Paper(session=exam, code=spec.code)
            db.add(paper)
        fields_changed = _set_paper_fields(paper, spec)
        scheme_changed, problems = _set_questions(db, paper, spec.questions)
        if problems:
            raise ImportRejected(parsed.origin, problems)
        outcome = "created" if created else "updated" if fields_changed or scheme_changed else "unchanged"
        return PaperImportSummary(spec.session, spec.code, outcome, len(spec.questions))


def _set_paper_fields(paper: Paper, spec: PaperSpec) -> bool:
    values = {
        "title": spec.title,
        "sitting_date": spec.sitting_date,
        "duration_minutes": spec.duration_minutes,
        "max_mark": spec.max_mark,
        "pages_per_copy": spec.pages_per_copy,
        "window_opens": spec.window_opens,
        "window_closes": spec.window_closes,
    }
    changed = False
    for key, value in values.items():
        if getattr(paper, key) != value:
            setattr(paper, key, value)
            changed = True
    return changed


def _set_questions(db: Session, paper: Paper, specs: Sequence[QuestionSpec]) -> tuple[bool, list[Problem]]:
    """Update the barème in place (question rows keep their ids, so marks stay attached)."""
    current = [(q.label, q.max_points, q.step) for q in paper.questions]
    wanted = [(q.label, q.max_points, q.step) for q in specs]
    if current == wanted:
        return False, []
    if paper.scheme_locked_at is not None:
        return False, [
            Problem(
                0,
                f"the barème of {paper.code} was locked on {paper.scheme_locked_at:%Y-%m-%d %H:%M} UTC "
                "(standardisation meeting held); its questions can no longer change",
            )
        ]
    dropped = [q.id for q in paper.questions[len(specs) :] if q.id is not None]
    if dropped and db.scalars(select(QuestionMark.id).where(QuestionMark.question_id.in_(dropped))).first():
        return False, [Problem(0, f"copies of {paper.code} are already marked: no question can be removed")]
    for position, spec in enumerate(specs, start=1):
        if position <= len(paper.questions):
            question = paper.questions[position - 1]
            question.label, question.max_points, question.step = spec.label, spec.max_points, spec.step
        else:
            paper.questions.append(
                Question(position=position, label=spec.label, max_points=spec.max_points, step=spec.step)
            )
    del paper.questions[len(specs) :]
    return True, []


def import_paper(factory: sessionmaker[Session], path: Path) -> PaperImportSummary:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            path.name, [Problem(line, "the file is not UTF-8 text: save it as UTF-8")]
        ) from None
    return apply_paper(factory, parse_paper(text, path.name))
