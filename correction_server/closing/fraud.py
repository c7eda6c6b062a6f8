"""The end of a fraud procedure, and what the candidate may be told meanwhile.

- `declare_void`: the sanction makes the paper void for the candidate: he "est réputé avoir été
  présent à l'épreuve sans l'avoir subie" (fiche 11); the jury export shows it; the hold ends.
- `result_withheld`: the one question the candidate's side asks before it shows him anything
  of a paper (his result, his copy): is it withheld while a procedure is under way?
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.candidates import find_candidate
from correction_server.closing.holds import active_hold, close_hold, report_of
from correction_server.closing.records import who
from correction_server.closing.refusals import ClosingRefused, clean_reason
from correction_server.models import FraudReport, Hold, Paper, PaperVoid, RollEntry


def result_withheld(session: Session, candidate_id: int, paper_id: int) -> bool:
    """True while a fraud procedure holds this candidate's result of this paper (a hold about
    this paper, or about all his papers). The candidate's space shows nothing of it then."""
    hold = active_hold(session, candidate_id)
    if hold is None:
        return False
    report = report_of(session, hold.id)
    return report is None or report.paper_id is None or report.paper_id == paper_id


def held_on_paper(session: Session, paper_id: int) -> set[int]:
    """The candidates whose result of this paper is under a fraud procedure now."""
    rows = session.execute(
        select(Hold.candidate_id, FraudReport.paper_id)
        .outerjoin(FraudReport, FraudReport.hold_id == Hold.id)
        .where(Hold.released_at.is_(None))
    )
    return {cid for cid, pid in rows if pid is None or pid == paper_id}


def voids_of_paper(session: Session, paper_id: int) -> dict[int, PaperVoid]:
    return {
        v.candidate_id: v for v in session.scalars(select(PaperVoid).where(PaperVoid.paper_id == paper_id))
    }


def declare_void(
    session: Session,
    registration: str,
    paper_id: int,
    reason: str,
    actor: audit.Actor,
    by_name: str,
) -> PaperVoid:
    """Nullité: the procedure's decision voids the paper; the hold ends with it."""
    candidate = find_candidate(session, registration)
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise ClosingRefused("jury.err.no_paper")
    hold = active_hold(session, candidate.id)
    if hold is None:
        raise ClosingRefused("jury.err.void_needs_hold", registration=candidate.registration)
    report = report_of(session, hold.id)
    if report is not None and report.paper_id not in (None, paper_id):
        raise ClosingRefused(
            "jury.err.void_other_paper", registration=candidate.registration, paper=paper.code
        )
    on_roll = session.scalar(
        select(RollEntry.id).where(RollEntry.candidate_id == candidate.id, RollEntry.paper_id == paper_id)
    )
    if on_roll is None:
        raise ClosingRefused("closing.err.not_registered", registration=candidate.registration)
    reason = clean_reason(reason, "jury.err.reason_void")
    void = PaperVoid(
        candidate_id=candidate.id,
        paper_id=paper_id,
        hold_id=hold.id,
        reason=reason,
        by_id=actor.user_id,
        by_name=who(by_name),
        at=datetime.now(UTC),
    )
    session.add(void)
    session.flush()
    audit.record(
        session,
        actor,
        "closing.paper_void",
        "candidate",
        candidate.registration,
        {"paper": paper.code, "reason": reason, "by": void.by_name},
    )
    close_hold(session, registration, reason, actor, by_name, outcome="void")
    return void
