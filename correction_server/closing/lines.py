"""A paper's lines: each registered candidate (or copy nobody is registered for) with his copy,
its marking, the coordinator's, the harmonisation meeting's and the jury's marks, a declared
absence of copy, a justified absence, a fraud procedure and its outcome.

The mark that stands, from the latest word down: the jury's, else the harmonisation meeting's,
else the coordinator's (second reading), else the corrector's.

Reconciliation and the jury export read the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.models import (
    AbsenceJustification,
    Candidate,
    Centre,
    Copy,
    FraudReport,
    HarmonisedMark,
    Hold,
    IdentityLink,
    JuryDecision,
    Marking,
    MarkingStatus,
    MissingDeclaration,
    PaperVoid,
    ReadingStatus,
    RollEntry,
    SecondReading,
)


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
    harmonised_mark_20: Decimal | None = None
    missing_reason: str | None = None
    held: bool = False  # under a fraud procedure: the jury sees the mark, the candidate nothing
    void_reason: str | None = None  # the paper declared void after the procedure
    justified: AbsenceJustification | None = None  # an AB whose absence is justified: mark 0

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
            return plain(self.jury.mark_20)
        if self.harmonised_mark_20 is not None:
            return plain(self.harmonised_mark_20)
        if self.coordinator_mark_20 is not None:
            return plain(self.coordinator_mark_20)
        return self.corrector_mark


def plain(value: Decimal | None) -> str:
    """A mark as the jury reads it: 12.5, 15 (no trailing zeros); "" when there is none."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


def paper_lines(session: Session, paper_id: int) -> list[Line]:
    """The registered candidates by centre and registration, then the copies of nobody."""
    centres = {c.id: c.uai for c in session.scalars(select(Centre))}
    lines: dict[int, Line] = {}
    # Columns, not entities: a national paper has half a million lines, and an ORM object per
    # row costs more than everything else here.
    for cand_id, registration, surname, given_names, centre_id, attendance in session.execute(
        select(
            Candidate.id,
            Candidate.registration,
            Candidate.surname,
            Candidate.given_names,
            Candidate.centre_id,
            RollEntry.attendance,
        )
        .join(Candidate, Candidate.id == RollEntry.candidate_id)
        .where(RollEntry.paper_id == paper_id)
    ):
        lines[cand_id] = Line(
            cand_id, registration, surname, given_names, centres[centre_id], attendance.value
        )
    strangers: list[Line] = []
    rows = session.execute(
        select(
            Copy.id,
            Copy.centre_id,
            Copy.status,
            IdentityLink.candidate_id,
            Marking.status,
            Marking.special,
            Marking.mark_20,
        )
        .outerjoin(IdentityLink, IdentityLink.copy_id == Copy.id)
        .outerjoin(Marking, Marking.copy_id == Copy.id)
        .where(Copy.paper_id == paper_id)
        .order_by(Copy.id)
    ).all()
    unknown_ids = {row[3] for row in rows if row[3] is not None and row[3] not in lines}
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
    harmonised = {
        h.copy_id: h.after
        for h in session.scalars(
            select(HarmonisedMark).where(HarmonisedMark.paper_id == paper_id).order_by(HarmonisedMark.id)
        )
    }
    for copy_id, centre_id, copy_status, candidate_id, status, special, mark_20 in rows:
        if candidate_id is None:
            line = Line(None, "", "", "", centres[centre_id], None)
            strangers.append(line)
        else:
            line = lines[candidate_id]
        line.copy_ids.append(copy_id)
        line.copy_status = copy_status.value
        line.copy_centre_uai = centres[centre_id]
        if status is not None:  # the copy has a marking
            line.marking_status = status.value
            if status == MarkingStatus.MARKED:
                line.corrector_mark = special.value if special else plain(mark_20)
                line.corrector_mark_20 = mark_20 if not special else None
        line.coordinator_mark_20 = decided.get(copy_id)
        line.harmonised_mark_20 = harmonised.get(copy_id)
        line.jury = jury.get(copy_id)
    for declared in session.scalars(
        select(MissingDeclaration).where(MissingDeclaration.paper_id == paper_id)
    ):
        if declared.candidate_id in lines:
            lines[declared.candidate_id].missing_reason = declared.reason
    held = {
        cid
        for cid, about in session.execute(
            select(Hold.candidate_id, FraudReport.paper_id)
            .outerjoin(FraudReport, FraudReport.hold_id == Hold.id)
            .where(Hold.released_at.is_(None))
        )
        if about is None or about == paper_id
    }
    voids = {
        v.candidate_id: v.reason
        for v in session.scalars(select(PaperVoid).where(PaperVoid.paper_id == paper_id))
    }
    justified = {
        j.candidate_id: j
        for j in session.scalars(
            select(AbsenceJustification).where(AbsenceJustification.paper_id == paper_id)
        )
    }
    for line in lines.values():
        line.held = line.candidate_id in held
        line.void_reason = voids.get(line.candidate_id)
        line.justified = justified.get(line.candidate_id)
    return sorted(lines.values(), key=lambda x: (x.centre_uai, x.registration)) + strangers


def current_mark_20(session: Session, copy_id: str) -> Decimal:
    """The mark of a marked copy that stands now, out of 20 (jury, harmonisation, coordinator,
    corrector: the latest word first); 0 for a copy marked AB or 00."""
    jury = session.scalar(
        select(JuryDecision.mark_20)
        .where(JuryDecision.copy_id == copy_id)
        .order_by(JuryDecision.id.desc())
        .limit(1)
    )
    if jury is not None:
        return jury
    return standing_before_jury(session, copy_id)


def standing_before_jury(session: Session, copy_id: str) -> Decimal:
    """The mark the harmonisation meeting works on: its own latest change, else the coordinator's
    decision, else the corrector's."""
    harmonised = session.scalar(
        select(HarmonisedMark.after)
        .where(HarmonisedMark.copy_id == copy_id)
        .order_by(HarmonisedMark.id.desc())
        .limit(1)
    )
    if harmonised is not None:
        return harmonised
    decided = session.scalar(
        select(SecondReading.decided_mark_20)
        .where(SecondReading.copy_id == copy_id, SecondReading.status == ReadingStatus.DECIDED)
        .order_by(SecondReading.decided_at.desc())
        .limit(1)
    )
    if decided is not None:
        return decided
    mark = session.scalar(select(Marking.mark_20).where(Marking.copy_id == copy_id))
    return mark if mark is not None else Decimal(0)
