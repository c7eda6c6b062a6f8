"""Reconciliation of a paper: per centre, registered / present / absent (the roll), copies
scanned, blank, absent, marked, missing; every difference in plain words, and which ones stop
the jury export."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.closing.lines import Line, paper_lines
from correction_server.closing.refusals import ClosingRefused, Phrase
from correction_server.models import Attendance, Centre, CopyStatus, Paper


@dataclass
class CentreCounts:
    uai: str
    name: str
    registered: int = 0
    present: int = 0
    absent: int = 0
    scanned: int = 0
    blank: int = 0
    absent_copies: int = 0
    marked: int = 0
    missing: int = 0


@dataclass
class Difference:
    centre_uai: str
    registration: str
    name: str
    copy_id: str
    says: Phrase  # the problem, a sentence of the catalogue (closing.diff.<name>)
    blocking: bool

    def words(self, lang: str | None = None) -> str:
        return self.says.words(lang)

    @property
    def problem(self) -> str:
        """The problem in the command line's language."""
        return self.says.words()


@dataclass
class Reconciliation:
    paper_id: int
    code: str
    title: str
    centres: list[CentreCounts]
    total: CentreCounts
    differences: list[Difference]

    @property
    def blockers(self) -> list[Difference]:
        return [d for d in self.differences if d.blocking]


def reconcile(session: Session, paper_id: int, lines: list[Line] | None = None) -> Reconciliation:
    """`lines`: the paper's lines when the caller has read them already (the exports)."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise ClosingRefused("closing.err.no_paper", paper_id=paper_id)
    names = {c.uai: c.name for c in session.scalars(select(Centre))}
    counts: dict[str, CentreCounts] = {}
    diffs: list[Difference] = []
    for line in paper_lines(session, paper_id) if lines is None else lines:
        c = counts.setdefault(line.centre_uai, CentreCounts(line.centre_uai, names.get(line.centre_uai, "")))
        _count(c, line)
        copy = ", ".join(line.copy_ids)
        diffs.extend(
            Difference(line.centre_uai, line.registration, line.name, copy, Phrase(key, values), blocking)
            for key, values, blocking in _problems(line)
        )
    ordered = [counts[k] for k in sorted(counts)]
    total = CentreCounts("", "")
    for c in ordered:
        for f in fields(CentreCounts)[2:]:
            setattr(total, f.name, getattr(total, f.name) + getattr(c, f.name))
    diffs.sort(key=lambda d: (not d.blocking, d.centre_uai, d.registration, d.copy_id))
    return Reconciliation(paper.id, paper.code, paper.title, ordered, total, diffs)


def _count(c: CentreCounts, line: Line) -> None:
    if line.attendance is not None:
        c.registered += 1
        c.present += line.attendance == Attendance.PRESENT.value
        c.absent += line.attendance == Attendance.ABSENT.value
    if line.copy_ids:
        c.scanned += len(line.copy_ids)
        c.blank += line.copy_status == CopyStatus.BLANK.value
        c.absent_copies += line.copy_status == CopyStatus.ABSENT.value
        c.marked += line.marked
    elif line.candidate_id is not None:
        c.missing += 1


def _problems(line: Line) -> list[tuple[str, dict[str, object], bool]]:
    """What is wrong with one line: (sentence key, its values, whether it stops the export)."""
    declared = line.missing_reason is not None
    reason = {"reason": line.missing_reason}
    if line.candidate_id is None:
        return [("closing.diff.no_candidate", {}, True)]
    if not line.copy_ids:
        absent = line.attendance == "absent"
        if declared:
            key = "closing.diff.absent_no_copy_declared" if absent else "closing.diff.no_copy_declared"
            return [(key, reason, False)]
        return [("closing.diff.absent_no_copy" if absent else "closing.diff.no_copy", {}, True)]
    found: list[tuple[str, dict[str, object], bool]] = []
    if len(line.copy_ids) > 1:
        found.append(("closing.diff.several_copies", {"n": len(line.copy_ids)}, True))
    if line.attendance is None:
        found.append(("closing.diff.not_on_roll", {}, False))
    elif line.attendance == "absent" and line.copy_status != CopyStatus.ABSENT.value:
        found.append(("closing.diff.absent_but_written", {}, False))
    elif line.attendance == "present" and line.copy_status == CopyStatus.ABSENT.value:
        found.append(("closing.diff.present_but_absent", {}, False))
    if line.copy_centre_uai != line.centre_uai:
        centres = {"copy_centre": line.copy_centre_uai, "centre": line.centre_uai}
        found.append(("closing.diff.other_centre", centres, False))
    if not line.marked:
        draft = line.marking_status == "draft"
        if declared:
            key = "closing.diff.draft_declared" if draft else "closing.diff.unmarked_declared"
            found.append((key, reason, False))
        else:
            found.append(("closing.diff.draft" if draft else "closing.diff.unmarked", {}, True))
    if line.held:
        found.append(("closing.diff.held", {}, False))
    return found
