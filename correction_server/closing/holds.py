"""Holds: during a fraud procedure the candidate is kept waiting (his copy's consultation and any
result shown to him), while the jury still deliberates on his marks, flagged "under fraud
procedure" in its export (fiche 11: "le jury délibère sur les résultats que vous avez obtenus
mais vous ne pourrez pas avoir connaissance de vos résultats avant la décision"). Nothing changes
on the correctors' side.

A hold carries the procès-verbal de suspicion de fraude (closing.fraud) and ends either released
or with the paper declared void.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.attachments import Attachment, keep_attachment
from correction_server.closing.candidates import find_candidate
from correction_server.closing.records import keep_decision, who
from correction_server.closing.refusals import ClosingRefused, clean_reason
from correction_server.models import Candidate, FraudReport, Hold, Paper
from correction_server.pages.store import ObjectStore


@dataclass(frozen=True)
class ReportIn:
    """The procès-verbal de suspicion de fraude as the office enters it."""

    written_by: str  # who drew it up (the room's supervisor, the head of centre)
    written_at: datetime  # when
    seized: str = ""  # what was seized (notes, a phone…)
    paper_id: int | None = None  # the paper concerned; None: every paper of the candidate
    attachment: Attachment | None = None


def active_hold(session: Session, candidate_id: int) -> Hold | None:
    return session.scalar(select(Hold).where(Hold.candidate_id == candidate_id, Hold.released_at.is_(None)))


def report_of(session: Session, hold_id: int) -> FraudReport | None:
    return session.scalar(select(FraudReport).where(FraudReport.hold_id == hold_id))


def place_hold(
    session: Session,
    registration: str,
    reason: str,
    actor: audit.Actor,
    by_name: str,
    *,
    report: ReportIn | None = None,
    store: ObjectStore | None = None,
) -> Hold:
    candidate = find_candidate(session, registration)
    if active_hold(session, candidate.id) is not None:
        raise ClosingRefused("closing.err.already_held", registration=candidate.registration)
    hold = Hold(
        candidate_id=candidate.id,
        reason=clean_reason(reason, "closing.err.reason_hold"),
        by_id=actor.user_id,
        by_name=who(by_name),
        at=datetime.now(UTC),
    )
    details: dict[str, object] = {"reason": hold.reason, "by": hold.by_name}
    row = None
    if report is not None:
        row = _report_row(session, report, store)
        details["report"] = {
            "paper_id": row.paper_id,
            "written_by": row.written_by,
            "written_at": row.written_at,
            "seized": row.seized,
            "file_sha256": row.file_sha256,
            "file_name": row.file_name,
        }
    keep_decision(session, actor, hold, "closing.hold", candidate.registration, details)
    if row is not None:
        row.hold_id = hold.id
        session.add(row)
        session.flush()
    return hold


def _report_row(session: Session, report: ReportIn, store: ObjectStore | None) -> FraudReport:
    written_by = (report.written_by or "").strip()
    if not written_by:
        raise ClosingRefused("jury.err.report_who")
    if report.written_at is None or report.written_at.tzinfo is None:
        raise ClosingRefused("jury.err.report_when")
    if report.paper_id is not None and session.get(Paper, report.paper_id) is None:
        raise ClosingRefused("jury.err.no_paper")
    sha, name = keep_attachment(store, report.attachment)
    return FraudReport(
        paper_id=report.paper_id,
        written_by=written_by[:200],
        written_at=report.written_at,
        seized=(report.seized or "").strip(),
        file_sha256=sha,
        file_name=name,
    )


def release_hold(session: Session, registration: str, reason: str, actor: audit.Actor, by_name: str) -> Hold:
    """The procedure ended without sanction on the paper: the candidate may learn his results."""
    return close_hold(session, registration, reason, actor, by_name, outcome="released")


def close_hold(
    session: Session, registration: str, reason: str, actor: audit.Actor, by_name: str, *, outcome: str
) -> Hold:
    candidate = find_candidate(session, registration)
    hold = active_hold(session, candidate.id)
    if hold is None:
        raise ClosingRefused("closing.err.not_held", registration=candidate.registration)
    hold.released_at = datetime.now(UTC)
    hold.released_by_id = actor.user_id
    hold.released_by_name = who(by_name)
    hold.release_reason = clean_reason(reason, "closing.err.reason_release")
    report = report_of(session, hold.id)
    if report is not None:
        report.outcome = outcome
    details = {"reason": hold.release_reason, "by": hold.released_by_name, "outcome": outcome}
    keep_decision(session, actor, hold, "closing.hold_release", candidate.registration, details)
    return hold


@dataclass(frozen=True)
class HoldView:
    registration: str
    name: str
    reason: str
    by_name: str
    at: datetime
    paper: str = ""  # the paper's code; "" every paper
    written_by: str = ""
    written_at: datetime | None = None
    seized: str = ""
    file_name: str = ""
    file_sha256: str | None = None


def open_holds(session: Session) -> list[HoldView]:
    codes = {p.id: p.code for p in session.scalars(select(Paper))}
    return [
        HoldView(
            c.registration,
            f"{c.surname} {c.given_names}",
            h.reason,
            h.by_name,
            h.at,
            codes.get(r.paper_id, "") if r else "",
            r.written_by if r else "",
            r.written_at if r else None,
            r.seized if r else "",
            r.file_name if r else "",
            r.file_sha256 if r else None,
        )
        for h, c, r in session.execute(
            select(Hold, Candidate, FraudReport)
            .join(Candidate, Candidate.id == Hold.candidate_id)
            .outerjoin(FraudReport, FraudReport.hold_id == Hold.id)
            .where(Hold.released_at.is_(None))
            .order_by(Hold.at)
        )
    ]
