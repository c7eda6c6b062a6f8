"""Review requests: a candidate asks the office to check a material error on his copy (erreur de
report de note: a question's points added wrong, a mark copied wrong). The office reads the
request beside the copy and answers; a corrected mark is kept as a jury decision beside the
corrector's (closing.jury), never over it. Asking, answering and correcting are in the audit log;
the answer and the corrected mark are shown to the candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.jury import record_jury_decision
from correction_server.coordination.second_reading import parse_mark_20
from correction_server.models import Candidate, Paper, RequestStatus, ReviewRequest
from massicot_core.errors import Refused

MAX_MESSAGE = 2000
MAX_OPEN_PER_COPY = 1  # one open request per copy: the office answers it before another is sent
ASKED = "candidate.review_asked"
ANSWERED = "candidate.review_answered"


def ask_review(
    session: Session, candidate: Candidate, paper_id: int, copy_id: str, message: str, actor: audit.Actor
) -> ReviewRequest:
    """The candidate's request (the caller has checked the copy is his and open to him). Caller commits."""
    text = (message or "").strip()
    if len(text) < 5:
        raise Refused(400, "candidate.err.request_empty")
    if len(text) > MAX_MESSAGE:
        raise Refused(400, "candidate.err.request_long", n=MAX_MESSAGE)
    open_ones = session.scalar(
        select(func.count(ReviewRequest.id)).where(
            ReviewRequest.copy_id == copy_id, ReviewRequest.status == RequestStatus.OPEN
        )
    )
    if open_ones >= MAX_OPEN_PER_COPY:
        raise Refused(409, "candidate.err.request_pending")
    row = ReviewRequest(
        candidate_id=candidate.id,
        paper_id=paper_id,
        copy_id=copy_id,
        message=text,
        asked_at=datetime.now(UTC),
        status=RequestStatus.OPEN,
        answer="",
        answered_by_name="",
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        ASKED,
        "review_request",
        row.id,
        {"copy": copy_id, "candidate": candidate.registration},
    )
    return row


def requests_of_copy(session: Session, copy_id: str) -> list[ReviewRequest]:
    return list(
        session.scalars(
            select(ReviewRequest).where(ReviewRequest.copy_id == copy_id).order_by(ReviewRequest.id)
        )
    )


@dataclass(frozen=True)
class RequestLine:
    id: int
    registration: str
    name: str
    paper_code: str
    paper_id: int
    copy_id: str
    message: str
    asked_at: datetime
    status: str
    answer: str
    corrected: str | None


def office_requests(session: Session, open_only: bool = False) -> list[RequestLine]:
    query = (
        select(ReviewRequest, Candidate, Paper)
        .join(Candidate, Candidate.id == ReviewRequest.candidate_id)
        .join(Paper, Paper.id == ReviewRequest.paper_id)
        .order_by(ReviewRequest.status.desc(), ReviewRequest.asked_at)
    )
    if open_only:
        query = query.where(ReviewRequest.status == RequestStatus.OPEN)
    from correction_server.marking.rules import fmt

    return [
        RequestLine(
            r.id,
            c.registration,
            f"{c.surname} {c.given_names}",
            p.code,
            p.id,
            r.copy_id,
            r.message,
            r.asked_at,
            r.status.value,
            r.answer,
            fmt(r.corrected_mark_20) if r.corrected_mark_20 is not None else None,
        )
        for r, c, p in session.execute(query)
    ]


def answer_review(
    session: Session,
    request_id: int,
    answer: str,
    corrected_mark: str,
    actor: audit.Actor,
    by_name: str,
) -> ReviewRequest:
    """The office's answer; with `corrected_mark`, the mark is corrected (a jury decision). Caller commits."""
    row = session.get(ReviewRequest, request_id, with_for_update=True)
    if row is None:
        raise Refused(404, "candidate.err.no_request")
    if row.status == RequestStatus.ANSWERED:
        raise Refused(409, "candidate.err.request_answered")
    text = (answer or "").strip()
    if len(text) < 5:
        raise Refused(400, "candidate.err.answer_empty")
    corrected = None
    if (corrected_mark or "").strip():
        corrected = parse_mark_20(corrected_mark)
        candidate = session.get(Candidate, row.candidate_id)
        record_jury_decision(
            session,
            row.paper_id,
            candidate.registration,
            corrected_mark,
            f"Erreur matérielle (demande {row.id}) : {text}",
            actor,
            by_name,
        )
    row.status = RequestStatus.ANSWERED
    row.answer = text
    row.corrected_mark_20 = corrected
    row.answered_by_id = actor.user_id
    row.answered_by_name = by_name
    row.answered_at = datetime.now(UTC)
    audit.record(
        session,
        actor,
        ANSWERED,
        "review_request",
        row.id,
        {"copy": row.copy_id, "answer": text, "corrected_mark_20": corrected, "by": by_name},
    )
    return row
