"""Closing a paper (the exam office): reconcile, export for the jury, holds, payment, retention.

Only the office calls these: they join copies to candidates (IdentityLink), which no other role
may read. Every change and every export is appended to the audit log in its transaction; the
functions flush, the caller commits (exports are recorded before the file is handed over).

- Reconciliation: per centre, registered / present / absent (the roll), copies scanned, blank,
  absent, marked, missing; every difference listed in plain words, and which ones stop the export.
- Jury export (CSV, XLSX): registration, name, paper, mark or AB / 00; only when every
  registered candidate has a marked copy or is explicitly declared missing.
- The mark the jury sets is kept beside the corrector's (JuryDecision), with who and why.
- Hold: during a fraud procedure a candidate's results (export) and copy access (consultation)
  are held; nothing changes on the correctors' side.
- Payment: copies marked per corrector and paper.
- Retention: after the legal year, page images go; marks, identities and the audit stay.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.models import (
    AnnotationLayer,
    Attendance,
    Candidate,
    Centre,
    CommentUse,
    Copy,
    CopyStatus,
    Hold,
    IdentityLink,
    JuryDecision,
    Marking,
    MarkingStatus,
    MissingDeclaration,
    Page,
    Paper,
    PurgeRecord,
    ReadingStatus,
    ResultsPublication,
    RollEntry,
    SecondReading,
    User,
)
from massicot_core.errors import Refused


class ClosingRefused(Refused):
    status = 409

    def __init__(self, message: str = "", key: str = "", **values: object) -> None:
        super().__init__(None, key, message=message, **values)


def one_year_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def _clean_reason(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ClosingRefused(f"Say why ({what}): the reason is kept with the decision.")
    return text


def find_candidate(session: Session, registration: str) -> Candidate:
    candidate = session.scalar(
        select(Candidate).where(Candidate.registration == (registration or "").strip().upper())
    )
    if candidate is None:
        raise ClosingRefused(f"No candidate has the registration number {registration!r}.")
    return candidate


# ---------------------------------------------------------------- the paper's lines


@dataclass
class Line:
    """One registered candidate (or one copy nobody is registered for) of a paper."""

    candidate_id: int | None
    registration: str
    surname: str
    given_names: str
    centre_uai: str
    attendance: str | None  # roll: registered / present / absent; None: not on the roll
    copy_ids: list[str] = field(default_factory=list)
    copy_status: str | None = None  # ok / blank / absent / incomplete
    copy_centre_uai: str | None = None
    marking_status: str | None = None  # None (no marking), draft, marked
    corrector_mark: str = ""  # "12.5", "AB", "00" or ""
    corrector_mark_20: Decimal | None = None
    coordinator_mark_20: Decimal | None = None
    jury: JuryDecision | None = None
    missing_reason: str | None = None
    held: bool = False

    @property
    def name(self) -> str:
        return f"{self.surname} {self.given_names}".strip()

    @property
    def marked(self) -> bool:
        return self.marking_status == MarkingStatus.MARKED.value

    @property
    def final_mark(self) -> str:
        """What the jury sees: its own mark, else the coordinator's decision, else the corrector's."""
        if self.jury is not None:
            return _plain(self.jury.mark_20)
        if self.coordinator_mark_20 is not None:
            return _plain(self.coordinator_mark_20)
        return self.corrector_mark


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}"


def paper_lines(session: Session, paper_id: int) -> list[Line]:
    centres = {c.id: c.uai for c in session.scalars(select(Centre))}
    lines: dict[int, Line] = {}
    for entry, cand in session.execute(
        select(RollEntry, Candidate)
        .join(Candidate, Candidate.id == RollEntry.candidate_id)
        .where(RollEntry.paper_id == paper_id)
    ):
        lines[cand.id] = Line(
            cand.id,
            cand.registration,
            cand.surname,
            cand.given_names,
            centres[cand.centre_id],
            entry.attendance.value,
        )
    strangers: list[Line] = []
    rows = session.execute(
        select(Copy, IdentityLink.candidate_id, Marking)
        .outerjoin(IdentityLink, IdentityLink.copy_id == Copy.id)
        .outerjoin(Marking, Marking.copy_id == Copy.id)
        .where(Copy.paper_id == paper_id)
        .order_by(Copy.id)
    ).all()
    unknown_ids = {cid for _c, cid, _m in rows if cid is not None and cid not in lines}
    for cand in session.scalars(select(Candidate).where(Candidate.id.in_(unknown_ids or {-1}))):
        lines[cand.id] = Line(
            cand.id, cand.registration, cand.surname, cand.given_names, centres[cand.centre_id], None
        )
    decided = {
        r.copy_id: r.decided_mark_20
        for r in session.scalars(
            select(SecondReading)
            .where(SecondReading.paper_id == paper_id, SecondReading.status == ReadingStatus.DECIDED)
            .order_by(SecondReading.decided_at)
        )
    }
    jury = {
        j.copy_id: j
        for j in session.scalars(
            select(JuryDecision).where(JuryDecision.paper_id == paper_id).order_by(JuryDecision.id)
        )
    }
    for copy, candidate_id, mark in rows:
        if candidate_id is None:
            line = Line(None, "", "", "", centres[copy.centre_id], None)
            strangers.append(line)
        else:
            line = lines[candidate_id]
        line.copy_ids.append(copy.id)
        line.copy_status = copy.status.value
        line.copy_centre_uai = centres[copy.centre_id]
        if mark is not None:
            line.marking_status = mark.status.value
            if mark.status == MarkingStatus.MARKED:
                line.corrector_mark = mark.special.value if mark.special else _plain(mark.mark_20)
                line.corrector_mark_20 = mark.mark_20 if not mark.special else None
        line.coordinator_mark_20 = decided.get(copy.id)
        line.jury = jury.get(copy.id)
    for declared in session.scalars(
        select(MissingDeclaration).where(MissingDeclaration.paper_id == paper_id)
    ):
        if declared.candidate_id in lines:
            lines[declared.candidate_id].missing_reason = declared.reason
    held = set(session.scalars(select(Hold.candidate_id).where(Hold.released_at.is_(None))))
    for line in lines.values():
        line.held = line.candidate_id in held
    return sorted(lines.values(), key=lambda x: (x.centre_uai, x.registration)) + strangers


# ---------------------------------------------------------------- reconciliation


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
    problem: str
    blocking: bool


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


def reconcile(session: Session, paper_id: int) -> Reconciliation:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise ClosingRefused(f"There is no paper #{paper_id}.")
    names = {c.uai: c.name for c in session.scalars(select(Centre))}
    counts: dict[str, CentreCounts] = {}
    diffs: list[Difference] = []

    def centre(uai: str) -> CentreCounts:
        return counts.setdefault(uai, CentreCounts(uai, names.get(uai, "")))

    for line in paper_lines(session, paper_id):
        c = centre(line.centre_uai)
        copy = ", ".join(line.copy_ids)

        def diff(problem: str, blocking: bool, line: Line = line, copy: str = copy) -> None:
            diffs.append(Difference(line.centre_uai, line.registration, line.name, copy, problem, blocking))

        if line.attendance is not None:
            c.registered += 1
            c.present += line.attendance == Attendance.PRESENT.value
            c.absent += line.attendance == Attendance.ABSENT.value
        if line.copy_ids:
            c.scanned += len(line.copy_ids)
            c.blank += line.copy_status == CopyStatus.BLANK.value
            c.absent_copies += line.copy_status == CopyStatus.ABSENT.value
            c.marked += line.marked
        declared = line.missing_reason is not None
        if line.candidate_id is None:
            diff(
                "Copy with no candidate: its label was not matched to anyone. Resolve it at the scan lot.",
                True,
            )
            continue
        if not line.copy_ids:
            c.missing += 1
            where = (
                "recorded absent, but no ABSENT copy was scanned"
                if line.attendance == "absent"
                else ("registered, but no copy was received")
            )
            if declared:
                diff(f"{where}; declared missing: {line.missing_reason}", False)
            else:
                diff(f"{where}. Find the copy, or declare it missing with the reason.", True)
            continue
        if len(line.copy_ids) > 1:
            diff(
                f"{len(line.copy_ids)} copies for one candidate: keep one, the others were wrongly linked.",
                True,
            )
        if line.attendance is None:
            diff("Copy of a candidate who is not on this paper's roll.", False)
        elif line.attendance == "absent" and line.copy_status != CopyStatus.ABSENT.value:
            diff("Recorded absent on the roll, but the copy was scanned as a written copy.", False)
        elif line.attendance == "present" and line.copy_status == CopyStatus.ABSENT.value:
            diff("Signed the roll as present, but the copy was scanned as ABSENT.", False)
        if line.copy_centre_uai != line.centre_uai:
            diff(
                f"Copy scanned in centre {line.copy_centre_uai}, candidate registered in {line.centre_uai}.",
                False,
            )
        if not line.marked:
            state = "being marked" if line.marking_status == "draft" else "not marked yet"
            if declared:
                diff(f"Copy {state}; declared missing: {line.missing_reason}", False)
            else:
                diff(f"Copy {state}.", True)
        if line.held:
            diff("Results held (procedure under way).", False)
    ordered = [counts[k] for k in sorted(counts)]
    total = CentreCounts("", "")
    for c in ordered:
        for name in (
            "registered",
            "present",
            "absent",
            "scanned",
            "blank",
            "absent_copies",
            "marked",
            "missing",
        ):
            setattr(total, name, getattr(total, name) + getattr(c, name))
    diffs.sort(key=lambda d: (not d.blocking, d.centre_uai, d.registration, d.copy_id))
    return Reconciliation(paper.id, paper.code, paper.title, ordered, total, diffs)


# ---------------------------------------------------------------- the jury export

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
]


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    data: bytes
    rows: int


def export_rows(session: Session, paper_id: int) -> list[list[str]]:
    """The table for the jury, refused while a copy is neither marked nor declared missing."""
    recon = reconcile(session, paper_id)
    if recon.blockers:
        first = "; ".join(f"{d.registration or d.copy_id}: {d.problem}" for d in recon.blockers[:5])
        raise ClosingRefused(
            f"The marks of {recon.code} cannot go to the jury yet: {len(recon.blockers)} line(s) are neither "
            f"marked nor declared missing ({first}{' …' if len(recon.blockers) > 5 else ''}). "
            "See the reconciliation page or `massicot office reconcile`."
        )
    rows = []
    for line in paper_lines(session, paper_id):
        if line.candidate_id is None:
            continue
        if line.held:
            mark, status = "", "held"
        elif line.missing_reason is not None and not line.marked:
            mark, status = "", "missing"
        else:
            mark = line.final_mark
            status = "jury" if line.jury else "marked"
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
                "" if line.held else line.corrector_mark,
                "" if line.held else _plain(line.coordinator_mark_20),
                "" if line.held or not line.jury else _plain(line.jury.mark_20),
                "" if line.held or not line.jury else line.jury.by_name,
                "" if line.held or not line.jury else line.jury.reason,
            ]
        )
    return rows


def export_marks(session: Session, paper_id: int, kind: str, actor: audit.Actor, by_name: str) -> Export:
    """The jury export as CSV or XLSX; the export itself is recorded in the audit log."""
    paper = session.get(Paper, paper_id)
    if kind not in ("csv", "xlsx"):
        raise ClosingRefused(f"Export format {kind!r} is not known: choose csv or xlsx.")
    rows = export_rows(session, paper_id)
    data = _csv(rows) if kind == "csv" else _xlsx(rows, paper.code)
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
            "sha256": hashlib.sha256(data).hexdigest(),
            "by": by_name,
        },
    )
    return Export(f"marks-{paper.code}.{kind}", media, data, len(rows))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
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
    for column, width in zip("ABCDEFGHIJKLM", (14, 18, 18, 10, 7, 12, 7, 8, 9, 9, 9, 18, 40), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(value: str) -> float | int | str:
    if value == "":
        return ""
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


# ---------------------------------------------------------------- jury, holds, missing


def _copy_of(session: Session, paper_id: int, candidate: Candidate) -> Copy:
    copies = session.scalars(
        select(Copy)
        .join(IdentityLink, IdentityLink.copy_id == Copy.id)
        .where(Copy.paper_id == paper_id, IdentityLink.candidate_id == candidate.id)
    ).all()
    if not copies:
        raise ClosingRefused(f"Candidate {candidate.registration} has no copy for this paper.")
    if len(copies) > 1:
        raise ClosingRefused(
            f"Candidate {candidate.registration} has {len(copies)} copies for this paper: "
            "resolve that first (see the reconciliation)."
        )
    return copies[0]


def record_jury_decision(
    session: Session,
    paper_id: int,
    registration: str,
    mark_text: str,
    reason: str,
    actor: audit.Actor,
    by_name: str,
) -> JuryDecision:
    """A mark set by the jury, kept beside the corrector's mark, never over it."""
    from correction_server.coordination.second_reading import parse_mark_20

    candidate = find_candidate(session, registration)
    copy = _copy_of(session, paper_id, candidate)
    first = session.scalar(select(Marking).where(Marking.copy_id == copy.id))
    if first is None or first.status != MarkingStatus.MARKED:
        raise ClosingRefused(f"Copy {copy.id} is not marked yet: the jury decides on marked copies.")
    if first.special is not None:
        raise ClosingRefused(
            f"Copy {copy.id} is {first.special.value} "
            f"({'absent' if first.special.value == 'AB' else 'blank'}): "
            "that is a fact recorded at the centre, not a mark the jury can change."
        )
    reason = _clean_reason(reason, "the jury's reason")
    if not (by_name or "").strip():
        raise ClosingRefused("Say who decided (the jury's president or the office member entering it).")
    decision = JuryDecision(
        copy_id=copy.id,
        candidate_id=candidate.id,
        paper_id=paper_id,
        original=_plain(first.mark_20),
        mark_20=parse_mark_20(mark_text),
        reason=reason,
        by_id=actor.user_id,
        by_name=by_name.strip(),
        at=datetime.now(UTC),
    )
    session.add(decision)
    session.flush()
    audit.record(
        session,
        actor,
        "closing.jury_mark",
        "copy",
        copy.id,
        {
            "candidate": candidate.registration,
            "original": decision.original,
            "mark_20": decision.mark_20,
            "reason": reason,
            "by": decision.by_name,
        },
    )
    return decision


def active_hold(session: Session, candidate_id: int) -> Hold | None:
    return session.scalar(select(Hold).where(Hold.candidate_id == candidate_id, Hold.released_at.is_(None)))


def place_hold(session: Session, registration: str, reason: str, actor: audit.Actor, by_name: str) -> Hold:
    candidate = find_candidate(session, registration)
    if active_hold(session, candidate.id) is not None:
        raise ClosingRefused(f"The results of {candidate.registration} are already held.")
    hold = Hold(
        candidate_id=candidate.id,
        reason=_clean_reason(reason, "the procedure"),
        by_id=actor.user_id,
        by_name=(by_name or "").strip() or "exam office",
        at=datetime.now(UTC),
    )
    session.add(hold)
    session.flush()
    audit.record(
        session,
        actor,
        "closing.hold",
        "candidate",
        candidate.registration,
        {"reason": hold.reason, "by": hold.by_name},
    )
    return hold


def release_hold(session: Session, registration: str, reason: str, actor: audit.Actor, by_name: str) -> Hold:
    candidate = find_candidate(session, registration)
    hold = active_hold(session, candidate.id)
    if hold is None:
        raise ClosingRefused(f"The results of {candidate.registration} are not held.")
    hold.released_at = datetime.now(UTC)
    hold.released_by_id = actor.user_id
    hold.released_by_name = (by_name or "").strip() or "exam office"
    hold.release_reason = _clean_reason(reason, "the end of the procedure")
    session.flush()
    audit.record(
        session,
        actor,
        "closing.hold_release",
        "candidate",
        candidate.registration,
        {"reason": hold.release_reason, "by": hold.released_by_name},
    )
    return hold


@dataclass(frozen=True)
class HoldView:
    registration: str
    name: str
    reason: str
    by_name: str
    at: datetime


def open_holds(session: Session) -> list[HoldView]:
    return [
        HoldView(c.registration, f"{c.surname} {c.given_names}", h.reason, h.by_name, h.at)
        for h, c in session.execute(
            select(Hold, Candidate)
            .join(Candidate, Candidate.id == Hold.candidate_id)
            .where(Hold.released_at.is_(None))
            .order_by(Hold.at)
        )
    ]


def declare_missing(
    session: Session, paper_id: int, registration: str, reason: str, actor: audit.Actor, by_name: str
) -> MissingDeclaration:
    candidate = find_candidate(session, registration)
    on_roll = session.scalar(
        select(RollEntry.id).where(RollEntry.candidate_id == candidate.id, RollEntry.paper_id == paper_id)
    )
    if on_roll is None:
        raise ClosingRefused(f"Candidate {candidate.registration} is not registered for this paper.")
    marked = session.scalar(
        select(func.count())
        .select_from(Marking)
        .join(IdentityLink, IdentityLink.copy_id == Marking.copy_id)
        .join(Copy, Copy.id == Marking.copy_id)
        .where(
            IdentityLink.candidate_id == candidate.id,
            Copy.paper_id == paper_id,
            Marking.status == MarkingStatus.MARKED,
        )
    )
    if marked:
        raise ClosingRefused(f"Candidate {candidate.registration}'s copy is marked: it is not missing.")
    existing = session.scalar(
        select(MissingDeclaration).where(
            MissingDeclaration.candidate_id == candidate.id, MissingDeclaration.paper_id == paper_id
        )
    )
    if existing is not None:
        raise ClosingRefused(f"Candidate {candidate.registration}'s copy is already declared missing.")
    declared = MissingDeclaration(
        candidate_id=candidate.id,
        paper_id=paper_id,
        reason=_clean_reason(reason, "why the copy is missing"),
        by_id=actor.user_id,
        by_name=(by_name or "").strip() or "exam office",
        at=datetime.now(UTC),
    )
    session.add(declared)
    session.flush()
    audit.record(
        session,
        actor,
        "closing.declare_missing",
        "candidate",
        candidate.registration,
        {"paper_id": paper_id, "reason": declared.reason, "by": declared.by_name},
    )
    return declared


# ---------------------------------------------------------------- results and consultation


def publish_results(
    session: Session, paper_id: int, when: datetime, actor: audit.Actor, by_name: str
) -> ResultsPublication:
    """The day results were published: the candidates' consultation year starts then."""
    if when.tzinfo is None:
        raise ClosingRefused("Give the publication time with its time zone.")
    row = session.scalar(select(ResultsPublication).where(ResultsPublication.paper_id == paper_id))
    if row is not None:
        raise ClosingRefused(
            f"Results of this paper were already published on {row.published_at:%Y-%m-%d}; that date stays."
        )
    row = ResultsPublication(
        paper_id=paper_id, published_at=when, by_name=(by_name or "").strip() or "exam office"
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "closing.publish", "paper", paper_id, {"published_at": when, "by": row.by_name}
    )
    return row


def consultation_open(session: Session, paper_id: int, candidate_id: int, now: datetime) -> None:
    """Refuse, in plain words, a consultation outside the year after results, or under a hold."""
    published = session.scalar(select(ResultsPublication).where(ResultsPublication.paper_id == paper_id))
    if published is None:
        raise ClosingRefused("Results of this paper are not published yet: copies are consulted afterwards.")
    closes = one_year_after(published.published_at)
    if now > closes:
        raise ClosingRefused(
            f"The consultation year ended on {closes:%Y-%m-%d} (results published on "
            f"{published.published_at:%Y-%m-%d}): the copy can no longer be consulted."
        )
    if active_hold(session, candidate_id) is not None:
        raise ClosingRefused(
            "This candidate's results and copy are held while a procedure is under way: "
            "no consultation until the hold is released."
        )


def consultation_pdf(
    session: Session,
    store,
    cache_dir: Path,
    paper_id: int,
    registration: str,
    actor: audit.Actor,
    by_name: str,
    now: datetime | None = None,
) -> bytes:
    """The candidate's marked copy: each page with the annotation layer drawn over it, then the
    marks per question and the appreciation. Recorded in the audit log (who asked, which bytes)."""
    from correction_server.closing.consultation import render_consultation

    now = now or datetime.now(UTC)
    candidate = find_candidate(session, registration)
    copy = _copy_of(session, paper_id, candidate)
    consultation_open(session, paper_id, candidate.id, now)
    if session.scalar(select(PurgeRecord.id).where(PurgeRecord.copy_id == copy.id)) is not None:
        raise ClosingRefused(f"The pages of copy {copy.id} were deleted after the legal year.")
    first = session.scalar(select(Marking).where(Marking.copy_id == copy.id))
    if first is None or first.status != MarkingStatus.MARKED:
        raise ClosingRefused(f"Copy {copy.id} is not marked: there is nothing to consult yet.")
    jury = session.scalar(
        select(JuryDecision).where(JuryDecision.copy_id == copy.id).order_by(JuryDecision.id.desc()).limit(1)
    )
    data = render_consultation(session, store, cache_dir, copy, candidate, first, jury)
    audit.record(
        session,
        actor,
        "closing.consultation",
        "copy",
        copy.id,
        {"candidate": candidate.registration, "sha256": hashlib.sha256(data).hexdigest(), "by": by_name},
    )
    return data


# ---------------------------------------------------------------- payment


@dataclass(frozen=True)
class PaymentLine:
    corrector: str
    email: str
    paper: str
    copies_marked: int
    of_which_ab_00: int
    second_readings: int


def payment_lines(session: Session, paper_id: int | None = None) -> list[PaymentLine]:
    """Copies counted as marked, per corrector and paper: who marked it (not who holds it now)."""
    query = (
        select(
            User.display_name,
            User.username,
            User.email,
            Paper.code,
            func.count(Marking.id),
            func.count(Marking.special),
        )
        .join(Marking, Marking.corrector_id == User.id)
        .join(Copy, Copy.id == Marking.copy_id)
        .join(Paper, Paper.id == Copy.paper_id)
        .where(Marking.status == MarkingStatus.MARKED)
        .group_by(User.id, User.display_name, User.username, User.email, Paper.code)
    )
    readings_q = (
        select(User.username, Paper.code, func.count(SecondReading.id))
        .join(SecondReading, SecondReading.reader_id == User.id)
        .join(Paper, Paper.id == SecondReading.paper_id)
        .where(SecondReading.status != ReadingStatus.REQUESTED)
        .group_by(User.username, Paper.code)
    )
    if paper_id is not None:
        query = query.where(Paper.id == paper_id)
        readings_q = readings_q.where(Paper.id == paper_id)
    readings = {(u, p): n for u, p, n in session.execute(readings_q)}
    lines = {}
    for display, username, email, code, n, special in session.execute(query):
        lines[(username, code)] = PaymentLine(
            display or username, email or username, code, n, special, readings.get((username, code), 0)
        )
    for (username, code), n in readings.items():
        if (username, code) not in lines:
            user = session.scalar(select(User).where(User.username == username))
            lines[(username, code)] = PaymentLine(
                user.display_name or username, user.email or username, code, 0, 0, n
            )
    return sorted(lines.values(), key=lambda x: (x.paper, x.corrector.lower()))


def payment_csv(session: Session, actor: audit.Actor, by_name: str, paper_id: int | None = None) -> bytes:
    lines = payment_lines(session, paper_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["corrector", "email", "paper", "copies_marked", "of_which_ab_00", "second_readings"])
    for x in lines:
        writer.writerow([x.corrector, x.email, x.paper, x.copies_marked, x.of_which_ab_00, x.second_readings])
    data = out.getvalue().encode("utf-8")
    audit.record(
        session,
        actor,
        "closing.payment_export",
        "paper",
        paper_id if paper_id is not None else "all",
        {"rows": len(lines), "sha256": hashlib.sha256(data).hexdigest(), "by": by_name},
    )
    return data


# ---------------------------------------------------------------- retention


@dataclass
class PurgeReport:
    papers: list[str] = field(default_factory=list)
    copies: int = 0
    pages: int = 0
    images_deleted: int = 0
    bytes_freed: int = 0
    kept_within_year: list[str] = field(default_factory=list)  # "U3 (results 2025-07-04, kept until …)"
    kept_held: list[str] = field(default_factory=list)  # copy ids kept: candidate under a hold
    not_published: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"Deleted the pages of {self.copies} copies ({self.pages} pages, "
            f"{self.images_deleted} image files, "
            f"{self.bytes_freed / 1e6:.1f} MB) of {', '.join(self.papers) or 'no paper'}. "
            "Marks, appreciations, identities and the audit log are kept."
        ]
        for text in self.kept_within_year:
            lines.append(f"Kept {text}: the consultation year is not over.")
        if self.kept_held:
            lines.append(
                f"Kept {len(self.kept_held)} copies of candidates under a hold: "
                f"{', '.join(self.kept_held[:10])}."
            )
        for code in self.not_published:
            lines.append(f"Kept {code}: its results are not published, so its legal year has not started.")
        lines.extend(self.problems)
        return "\n".join(lines)


def purge(
    session: Session,
    store,
    derived_dir: Path | None,
    before: date,
    actor: audit.Actor,
    by_name: str,
    now: datetime | None = None,
) -> PurgeReport:
    """Delete the page images of papers whose results were published before `before` and whose
    consultation year is over. The database change (pages, annotation layers, purge records,
    audit entry) is committed first; only then are files deleted, so a crash can leave an
    unreferenced file behind, never a page pointing at nothing. An image a push in progress
    lists is kept (the push may have sent it already); a push announced after the commit that
    counts on an image deleted next is told at its commit to send it again."""
    from correction_server.intake.ingest import lock_uploads
    from correction_server.intake.purge import images_of_pushes_in_progress

    # Pushes in progress count on the images they have sent: none may go while one announces or
    # commits (the uploads lock), and none a push lists is deleted.
    lock_uploads(session, exclusive=True)
    now = now or datetime.now(UTC)
    limit = datetime.combine(before, time(0, 0), tzinfo=UTC)
    report = PurgeReport()
    candidates_held = set(session.scalars(select(Hold.candidate_id).where(Hold.released_at.is_(None))))
    purged = set(session.scalars(select(PurgeRecord.copy_id)))
    freed: set[str] = set()
    records: dict[str, PurgeRecord] = {}
    shas_of_copy: dict[str, set[str]] = defaultdict(set)
    for paper in session.scalars(select(Paper).order_by(Paper.code)):
        published = session.scalar(select(ResultsPublication).where(ResultsPublication.paper_id == paper.id))
        if published is None:
            if session.scalar(select(func.count()).select_from(Copy).where(Copy.paper_id == paper.id)):
                report.not_published.append(paper.code)
            continue
        if published.published_at >= limit:
            continue
        until = one_year_after(published.published_at)
        if until > now:
            report.kept_within_year.append(
                f"{paper.code} (results {published.published_at:%Y-%m-%d}, kept until {until:%Y-%m-%d})"
            )
            continue
        rows = session.execute(
            select(Copy.id, IdentityLink.candidate_id)
            .outerjoin(IdentityLink, IdentityLink.copy_id == Copy.id)
            .where(Copy.paper_id == paper.id)
            .order_by(Copy.id)
        ).all()
        copies = []
        for copy_id, candidate_id in rows:
            if copy_id in purged:
                continue
            if candidate_id in candidates_held:
                report.kept_held.append(copy_id)
                continue
            copies.append(copy_id)
        if not copies:
            continue
        pages_done = 0
        for chunk_start in range(0, len(copies), 500):
            chunk = copies[chunk_start : chunk_start + 500]
            pages = session.execute(
                select(Page.id, Page.copy_id, Page.image_sha256).where(Page.copy_id.in_(chunk))
            ).all()
            page_ids = [p.id for p in pages]
            per_copy: dict[str, int] = defaultdict(int)
            for p in pages:
                per_copy[p.copy_id] += 1
                shas_of_copy[p.copy_id].add(p.image_sha256)
                freed.add(p.image_sha256)
            if page_ids:
                session.execute(delete(CommentUse).where(CommentUse.page_id.in_(page_ids)))
                session.execute(delete(AnnotationLayer).where(AnnotationLayer.page_id.in_(page_ids)))
                session.execute(delete(Page).where(Page.id.in_(page_ids)))
            for copy_id in chunk:
                records[copy_id] = PurgeRecord(
                    copy_id=copy_id, purged_at=now, pages=per_copy[copy_id], images_deleted=0, by_name=by_name
                )
                session.add(records[copy_id])
            pages_done += len(page_ids)
        report.papers.append(paper.code)
        report.copies += len(copies)
        report.pages += pages_done
        audit.record(
            session,
            actor,
            "closing.purge",
            "paper",
            paper.id,
            {
                "paper": paper.code,
                "copies": len(copies),
                "pages": pages_done,
                "before": before.isoformat(),
                "by": by_name,
            },
        )
    session.flush()
    # Images still used by a page that stays (the same bytes in another copy) are kept.
    still_used = set(
        session.scalars(select(Page.image_sha256).where(Page.image_sha256.in_(list(freed) or [""])))
    )
    still_used |= freed & images_of_pushes_in_progress(session)
    report_files = [sha for sha in sorted(freed) if sha not in still_used]
    for copy_id, record in records.items():
        record.images_deleted = len(shas_of_copy[copy_id] - still_used)
    session.commit()
    for sha in report_files:
        try:
            path = store.object_path(sha)
            size = path.stat().st_size if path.exists() else 0
            if path.exists():
                path.unlink()
                report.images_deleted += 1
                report.bytes_freed += size
            if derived_dir is not None:
                for derived in (derived_dir / sha[:2]).glob(f"{sha}-*"):
                    derived.unlink(missing_ok=True)
        except OSError as exc:
            report.problems.append(f"Could not delete the image {sha[:12]}…: {exc}. Delete it by hand.")
    return report
