"""The mark the jury sets: kept beside the corrector's (JuryDecision), never over it, with who
decided and why.

The jury is sovereign but its livret can only raise a mark (fiche 6 §IV.4): a lower mark is
refused unless it is recorded as the correction of a material error, naming who found it and why.
Once the jury has deliberated on the paper, nothing changes until it is reconvened
(closing.deliberation).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.candidates import copy_of, find_candidate
from correction_server.closing.deliberation import ensure_marks_open
from correction_server.closing.lines import current_mark_20, plain
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
    *,
    material_error: bool = False,
    material_error_by: str = "",
) -> JuryDecision:
    """A mark set by the jury, kept beside the corrector's mark, never over it."""
    ensure_marks_open(session, paper_id)
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
    new = parse_mark_20(mark_text)
    standing: Decimal = current_mark_20(session, copy.id)
    if new < standing and not material_error:
        raise ClosingRefused("jury.err.only_raise", copy=copy.id, mark=plain(new), standing=plain(standing))
    if material_error and not (material_error_by or "").strip():
        raise ClosingRefused("jury.err.material_who")
    decision = JuryDecision(
        copy_id=copy.id,
        candidate_id=candidate.id,
        paper_id=paper_id,
        original=plain(standing),
        mark_20=new,
        reason=reason,
        by_id=actor.user_id,
        by_name=by_name.strip(),
        at=datetime.now(UTC),
        material_error=material_error,
        material_error_by=(material_error_by or "").strip()[:200],
    )
    session.add(decision)
    session.flush()
    details = {
        "candidate": candidate.registration,
        "original": decision.original,
        "mark_20": decision.mark_20,
        "reason": reason,
        "by": decision.by_name,
    }
    if material_error:
        details["material_error_by"] = decision.material_error_by
    audit.record(
        session,
        actor,
        "closing.material_error" if material_error else "closing.jury_mark",
        "copy",
        copy.id,
        details,
    )
    return decision
