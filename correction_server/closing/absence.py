"""Justified absence (fiche 6 §IV.2, fiche 9): AB is for an absence not justified, and it
eliminates; an absence the office records as justified, with its evidence, gives the mark 0 in
the jury export and puts the candidate on the list of the replacement session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.attachments import Attachment, keep_attachment
from correction_server.closing.candidates import copy_of, find_candidate
from correction_server.closing.export import csv_bytes
from correction_server.closing.records import keep_decision, who
from correction_server.closing.refusals import ClosingRefused, clean_reason
from correction_server.models import (
    AbsenceJustification,
    Attendance,
    Candidate,
    Centre,
    CopyStatus,
    Marking,
    Paper,
    RollEntry,
    SpecialMark,
)
from correction_server.pages.store import ObjectStore
from massicot_core.files import sha256_bytes

REPLACEMENT_COLUMNS = [
    "registration",
    "surname",
    "given_names",
    "centre",
    "paper",
    "evidence",
    "recorded_by",
    "at",
]


def justifications_of_paper(session: Session, paper_id: int) -> dict[int, AbsenceJustification]:
    rows = session.scalars(select(AbsenceJustification).where(AbsenceJustification.paper_id == paper_id))
    return {j.candidate_id: j for j in rows}


def justify_absence(
    session: Session,
    paper_id: int,
    registration: str,
    evidence: str,
    actor: audit.Actor,
    by_name: str,
    *,
    attachment: Attachment | None = None,
    store: ObjectStore | None = None,
) -> AbsenceJustification:
    """Record an absence as justified: only for a candidate whose copy is ABSENT (AB), once."""
    candidate = find_candidate(session, registration)
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise ClosingRefused("jury.err.no_paper")
    if not _absent(session, paper_id, candidate):
        raise ClosingRefused("jury.err.not_absent", registration=candidate.registration, paper=paper.code)
    existing = session.scalar(
        select(AbsenceJustification.id).where(
            AbsenceJustification.candidate_id == candidate.id, AbsenceJustification.paper_id == paper_id
        )
    )
    if existing is not None:
        raise ClosingRefused("jury.err.already_justified", registration=candidate.registration)
    sha, name = keep_attachment(store, attachment)
    row = AbsenceJustification(
        candidate_id=candidate.id,
        paper_id=paper_id,
        evidence=clean_reason(evidence, "jury.err.evidence"),
        file_sha256=sha,
        file_name=name,
        by_id=actor.user_id,
        by_name=who(by_name),
        at=datetime.now(UTC),
    )
    details = {
        "paper": paper.code,
        "evidence": row.evidence,
        "file_sha256": sha,
        "file_name": name,
        "by": row.by_name,
    }
    keep_decision(session, actor, row, "closing.absence_justified", candidate.registration, details)
    return row


def _absent(session: Session, paper_id: int, candidate: Candidate) -> bool:
    """His copy is the ABSENT one (or the roll says absent and no copy came)."""
    try:
        copy = copy_of(session, paper_id, candidate)
    except ClosingRefused:
        attendance = session.scalar(
            select(RollEntry.attendance).where(
                RollEntry.candidate_id == candidate.id, RollEntry.paper_id == paper_id
            )
        )
        return attendance == Attendance.ABSENT
    special = session.scalar(select(Marking.special).where(Marking.copy_id == copy.id))
    return copy.status == CopyStatus.ABSENT or special == SpecialMark.ABSENT


@dataclass(frozen=True)
class ReplacementLine:
    registration: str
    surname: str
    given_names: str
    centre: str
    paper: str
    evidence: str
    by_name: str
    at: datetime


def replacement_list(session: Session, paper_id: int | None = None) -> list[ReplacementLine]:
    """The candidates of the replacement session: justified absences, by paper, centre, registration."""
    query = (
        select(AbsenceJustification, Candidate, Centre.uai, Paper.code)
        .join(Candidate, Candidate.id == AbsenceJustification.candidate_id)
        .join(Centre, Centre.id == Candidate.centre_id)
        .join(Paper, Paper.id == AbsenceJustification.paper_id)
        .order_by(Paper.code, Centre.uai, Candidate.registration)
    )
    if paper_id is not None:
        query = query.where(AbsenceJustification.paper_id == paper_id)
    return [
        ReplacementLine(c.registration, c.surname, c.given_names, uai, code, j.evidence, j.by_name, j.at)
        for j, c, uai, code in session.execute(query)
    ]


def replacement_csv(session: Session, actor: audit.Actor, by_name: str, paper_id: int | None = None) -> bytes:
    """The replacement session's list as CSV; handing it over is in the audit log."""
    lines = replacement_list(session, paper_id)
    rows = [
        [x.registration, x.surname, x.given_names, x.centre, x.paper, x.evidence, x.by_name, x.at.isoformat()]
        for x in lines
    ]
    data = csv_bytes(REPLACEMENT_COLUMNS, rows)
    audit.record(
        session,
        actor,
        "closing.replacement_export",
        "paper",
        paper_id if paper_id is not None else "all",
        {"rows": len(rows), "sha256": sha256_bytes(data), "by": who(by_name)},
    )
    return data
