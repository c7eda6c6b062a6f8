"""The anonymised export for the first-group deliberation (fiche 6 §III.1, §IV.6.a: the livrets
are anonymised): copy ids and marks only — no registration, no name — and the paper's statistics
the jury reads (count, mean, standard deviation, distribution by point, per-centre means).

Same gates as the named export (harmonisation meeting, every copy accounted for), same marks;
the named export stays the office's. Recorded in the audit log like it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.export import Export, csv_bytes, export_rows
from correction_server.closing.lines import paper_lines
from correction_server.closing.refusals import ClosingRefused
from correction_server.models import Paper
from massicot_core.files import sha256_bytes

ANONYMISED_COLUMNS = ["copy_id", "mark", "status", "procedure"]


@dataclass(frozen=True)
class PaperStatistics:
    count: int  # copies with a mark that counts (AB, void, missing left out; 0 of a justified absence in)
    mean: float
    sd: float
    by_point: list[int]  # copies per whole point 0..20 (a half point goes with the point below)
    centre_means: list[tuple[str, int, float]]  # (centre UAI, copies, mean)


def _statistics(marks: list[tuple[str, float]]) -> PaperStatistics:
    values = [m for _c, m in marks]
    n = len(values)
    mean = sum(values) / n if n else math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    by_point = [0] * 21
    for v in values:
        by_point[min(20, max(0, math.floor(v)))] += 1
    centres: dict[str, list[float]] = {}
    for centre, v in marks:
        centres.setdefault(centre, []).append(v)
    per_centre = [(c, len(vs), sum(vs) / len(vs)) for c, vs in sorted(centres.items())]
    return PaperStatistics(n, mean, sd, by_point, per_centre)


def anonymised_rows(session: Session, paper_id: int) -> tuple[list[list[str]], PaperStatistics]:
    lines = paper_lines(session, paper_id)
    named = export_rows(session, paper_id, lines)  # the gates, and the very marks of the named export
    centre_of_copy = {cid: line.copy_centre_uai or line.centre_uai for line in lines for cid in line.copy_ids}
    rows, marks = [], []
    for row in named:
        copy_ids, mark, status, procedure = row[5], row[6], row[7], row[13]
        if not copy_ids:
            continue  # no copy, no anonymous line (a missing copy has nothing to deliberate on)
        rows.append([copy_ids, mark, status, procedure])
        if mark not in ("", "AB"):
            value = 0.0 if mark == "00" else float(Decimal(mark))
            marks.append((centre_of_copy.get(copy_ids.split(", ")[0], ""), value))
    rows.sort(key=lambda r: r[0])  # by copy id: nothing of the centre or registration order shows
    return rows, _statistics(marks)


def _fmt(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def statistics_rows(stats: PaperStatistics) -> list[list[str]]:
    out = [
        ["statistic", "value"],
        ["count", str(stats.count)],
        ["mean", _fmt(stats.mean)],
        ["sd", _fmt(stats.sd)],
    ]
    out += [[f"points_{k}", str(n)] for k, n in enumerate(stats.by_point)]
    out += [[f"centre_{uai}_mean", f"{_fmt(mean)} ({n})"] for uai, n, mean in stats.centre_means]
    return out


def export_anonymised(session: Session, paper_id: int, kind: str, actor: audit.Actor, by_name: str) -> Export:
    paper = session.get(Paper, paper_id)
    if kind not in ("csv", "xlsx"):
        raise ClosingRefused("closing.err.export_format", kind=kind)
    rows, stats = anonymised_rows(session, paper_id)
    if kind == "csv":
        # The marks, a blank line, then the statistics: one file the jury reads top to bottom.
        data = csv_bytes(ANONYMISED_COLUMNS, rows) + b"\n" + csv_bytes(*_split(statistics_rows(stats)))
        media = "text/csv; charset=utf-8"
    else:
        data = _xlsx(rows, stats, paper.code)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit.record(
        session,
        actor,
        "closing.export_anonymised",
        "paper",
        paper.id,
        {"paper": paper.code, "format": kind, "rows": len(rows), "sha256": sha256_bytes(data), "by": by_name},
    )
    return Export(f"marks-{paper.code}-anonymised.{kind}", media, data, len(rows))


def _split(table: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    return table[0], table[1:]


def _xlsx(rows: list[list[str]], stats: PaperStatistics, code: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = f"Copies {code}"[:31]
    sheet.append(ANONYMISED_COLUMNS)
    for row in rows:
        mark = row[1]
        sheet.append([row[0], float(mark) if mark not in ("", "AB", "00") else mark, row[2], row[3]])
    stats_sheet = book.create_sheet(f"Statistiques {code}"[:31])
    for row in statistics_rows(stats):
        stats_sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
