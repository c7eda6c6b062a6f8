"""The candidate import: the list of candidates (CSV or XLSX) with their centres,
establishments and the papers they sit.

Parsing is pure: a table in, plain dataclasses and a list of problems out, each problem with its
line number. `apply_candidates` checks what needs the database (paper codes, sessions) and writes
everything in ONE transaction: a file with any problem imports nothing, and importing the same
file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from correction_server.models import (
    Attendance,
    Candidate,
    Centre,
    Establishment,
    ExamSession,
    Paper,
    RollEntry,
)
from correction_server.office.import_report import ImportRejected, Problem, unit_of_work
from correction_server.office.spreadsheet_numbers import (
    NumberCell,
    Reading,
    lost_zeros_of,
    read_code,
    read_digits,
    read_uai,
)
from correction_server.office.tables import Table, TableRow, parse_date, read_table
from massicot_core.identifiers import PAPER_CODE_RE, REGISTRATION_RE, UAI_RE

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
# room and table: where the candidate sits in his centre (printed on the centre's rolls); a file
# without them leaves the rooms already known as they are.
OPTIONAL_CANDIDATE_COLUMNS = ("session", "room", "table")
PLACE_COLUMNS = ("room", "table")
# How the office states that every registration number has the same number of digits (the
# command line's option): only then can leading zeros a spreadsheet dropped be put back.
REGISTRATION_DIGITS_OPTION = "--registration-digits"
# Keep IN (...) lists well under every database's parameter limit.
_CHUNK = 500


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
    room: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class ParsedCandidates:
    origin: str
    lines: tuple[CandidateLine, ...]
    problems: tuple[Problem, ...]
    # Lines whose spreadsheet numbers got their leading zeros back: imported, but to be checked.
    notes: tuple[Problem, ...] = ()
    # The file has the room / table columns: only then are the stored ones replaced.
    has_places: bool = False


def parse_candidates(
    table: Table,
    registration_digits: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ParsedCandidates:
    """Check every line of a candidate table; keep the good lines and every problem found.

    registration_digits: the number of digits every registration number has, when the office
    knows it; a registration a workbook stored as a number is refused without it.
    progress: told (lines read, lines in the file) as the check goes (the office console).
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
    total = len(table.rows)
    for index, row in enumerate(table.rows):
        if progress is not None and index % 500 == 0:
            progress(index, total)
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
    has_places = any(c in table.columns for c in PLACE_COLUMNS)
    return ParsedCandidates(table.origin, tuple(lines), tuple(problems), tuple(notes), has_places)


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
    if len(v.get("room") or "") > 40:
        bad("room is longer than 40 characters")
    if len(v.get("table") or "") > 12:
        bad("table is longer than 12 characters")
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
            room=v.get("room") or None,
            table=v.get("table") or None,
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


def apply_candidates(
    factory: sessionmaker[Session], parsed: ParsedCandidates, dry_run: bool = False
) -> CandidateImportSummary:
    """Write the candidates, their centres, establishments and roll entries in one transaction.

    Problems found in the file or against the database raise ImportRejected and nothing is written.
    Candidates absent from the file are left alone (a file may cover one centre only). A paper no
    longer listed for a candidate is removed from his roll only while nothing was recorded on it.
    dry_run: every check and every count, then the transaction is rolled back.
    """
    with unit_of_work(factory, dry_run) as db:
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
        writer = _CandidateWriter(db, summary, places=parsed.has_places)
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
    places: bool = False  # the file gives rooms and tables
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
        fields = self._fields()
        columns = [getattr(Candidate, name) for name in fields]
        for chunk in _chunks({line.registration for line in lines}):
            query = select(Candidate.id, Candidate.registration, *columns).where(
                Candidate.registration.in_(chunk)
            )
            for candidate_id, registration, *values in self.db.execute(query):
                self.known[registration] = (candidate_id, dict(zip(fields, values, strict=True)))
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
            if self.places:
                values |= {"room": line.room, "table_number": line.table}
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

    def _fields(self) -> tuple[str, ...]:
        return _CANDIDATE_FIELDS + (("room", "table_number") if self.places else ())

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
    factory: sessionmaker[Session],
    path: Path,
    registration_digits: int | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CandidateImportSummary:
    table = read_table(path, header_hint="registration")
    return apply_candidates(factory, parse_candidates(table, registration_digits, progress), dry_run)
