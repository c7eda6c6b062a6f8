"""The mark the jury sets: kept beside the corrector's (JuryDecision), never over it, with who
decided and why."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.candidates import copy_of, find_candidate
from correction_server.closing.lines import plain
from correction_server.closing.refusals import ClosingRefused, clean_reason
from correction_server.coordination.second_reading import parse_mark_20
from correction_server.models import JuryDecision, Marking, MarkingStatus


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
    candidate = find_candidate(session, registration)
    copy = copy_of(session, paper_id, candidate)
    first = session.scalar(select(Marking).where(Marking.copy_id == copy.id))
    if first is None or first.status != MarkingStatus.MARKED:
        raise ClosingRefused("closing.err.jury_unmarked", copy=copy.id)
    if first.special is not None:
        key = "closing.err.jury_absent" if first.special.value == "AB" else "closing.err.jury_blank"
        raise ClosingRefused(key, copy=copy.id, special=first.special.value)
    reason = clean_reason(reason, "closing.err.reason_jury")
    if not (by_name or "").strip():
        raise ClosingRefused("closing.err.jury_who")
    decision = JuryDecision(
        copy_id=copy.id,
        candidate_id=candidate.id,
        paper_id=paper_id,
        original=plain(first.mark_20),
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
