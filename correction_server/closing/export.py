"""The de-anonymised export for the jury (CSV, XLSX): registration, name, paper, mark or AB / 00.

Only after the paper's harmonisation meeting is recorded, and when every registered candidate
has a marked copy or is explicitly declared missing. A candidate under a fraud procedure keeps
his mark, flagged in the `procedure` column (the jury deliberates on it; only the candidate is
kept waiting); a paper declared void shows as such; a justified absence gets 0, not AB. The
export itself is recorded in the audit log before the file is handed over (the caller commits).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.lines import Line, paper_lines, plain
from correction_server.closing.reconcile import reconcile
from correction_server.closing.refusals import ClosingRefused, Listing, Phrase
from correction_server.coordination.harmonisation_meeting import ensure_harmonised
from correction_server.models import Paper
from massicot_core.files import sha256_bytes

EXPORT_COLUMNS = [
    "registration",
    "surname",
    "given_names",
    "centre",
    "paper",
    "copy_id",
    "mark",
    "status",
    "corrector_mark",
    "coordinator_mark",
    "jury_mark",
    "jury_by",
    "jury_reason",
    "procedure",
]

FRAUD = "under fraud procedure"
VOID = "void: deemed present without having sat the paper"


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    data: bytes
    rows: int


def export_rows(session: Session, paper_id: int, lines: list[Line] | None = None) -> list[list[str]]:
    """The table for the jury, refused before the harmonisation meeting and while a copy is
    neither marked nor declared missing. `lines`: the paper's lines, if already read."""
    ensure_harmonised(session, paper_id)
    # Read once for both the reconciliation and the table: half a million lines take seconds.
    lines = paper_lines(session, paper_id) if lines is None else lines
    recon = reconcile(session, paper_id, lines)
    if recon.blockers:
        first = [
            Phrase("closing.err.blocker", {"who": d.registration or d.copy_id, "problem": d.says})
            for d in recon.blockers[:5]
        ]
        raise ClosingRefused(
            "closing.err.export_blocked",
            code=recon.code,
            n=len(recon.blockers),
            first=Listing(first),
            more=" …" if len(recon.blockers) > 5 else "",
        )
    rows = []
    for line in lines:
        if line.candidate_id is None:
            continue
        mark, status = line_mark(line)
        rows.append(
            [
                line.registration,
                line.surname,
                line.given_names,
                line.centre_uai,
                recon.code,
                ", ".join(line.copy_ids),
                mark,
                status,
                line.corrector_mark,
                plain(line.coordinator_mark_20),
                "" if not line.jury else plain(line.jury.mark_20),
                "" if not line.jury else line.jury.by_name,
                "" if not line.jury else line.jury.reason,
                procedure_of(line),
            ]
        )
    return rows


def line_mark(line: Line) -> tuple[str, str]:
    """(mark, status) of a line as the jury reads it."""
    if line.void_reason is not None:
        return "", "void"
    if line.missing_reason is not None and not line.marked:
        return "", "missing"
    if line.justified is not None and line.corrector_mark in ("AB", ""):
        return "0", "justified_absence"  # fiche 6 §IV.2: a justified absence is 0, not AB
    return line.final_mark, "jury" if line.jury else "marked"


def procedure_of(line: Line) -> str:
    if line.void_reason is not None:
        return VOID
    return FRAUD if line.held else ""


def export_marks(session: Session, paper_id: int, kind: str, actor: audit.Actor, by_name: str) -> Export:
    """The jury export as CSV or XLSX; the export itself is recorded in the audit log."""
    paper = session.get(Paper, paper_id)
    if kind not in ("csv", "xlsx"):
        raise ClosingRefused("closing.err.export_format", kind=kind)
    rows = export_rows(session, paper_id)
    data = csv_bytes(EXPORT_COLUMNS, rows) if kind == "csv" else _xlsx(rows, paper.code)
    media = (
        "text/csv; charset=utf-8"
        if kind == "csv"
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    audit.record(
        session,
        actor,
        "closing.export",
        "paper",
        paper.id,
        {
            "paper": paper.code,
            "format": kind,
            "rows": len(rows),
            "sha256": sha256_bytes(data),
            "by": by_name,
        },
    )
    return Export(f"marks-{paper.code}.{kind}", media, data, len(rows))


def csv_bytes(columns: list[str], rows: list[list[object]]) -> bytes:
    """A CSV file as the office gets them: a header line, then the rows; UTF-8, Unix line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(rows: list[list[str]], code: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = f"Notes {code}"[:31]
    sheet.append(EXPORT_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    numeric = {EXPORT_COLUMNS.index(n) for n in ("mark", "corrector_mark", "coordinator_mark", "jury_mark")}
    for row in rows:
        # Marks as numbers (the jury sorts and averages them); AB and 00 stay as written.
        sheet.append([_number(v) if i in numeric and v not in ("AB", "00") else v for i, v in enumerate(row)])
    sheet.freeze_panes = "A2"
    widths = (14, 18, 18, 10, 7, 12, 7, 8, 9, 9, 9, 18, 40, 24)
    for column, width in zip("ABCDEFGHIJKLMN", widths, strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(value: str) -> float | int | str:
    if value == "":
        return ""
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)

