"""A registered candidate's copy declared missing (with the reason), so the jury export can go
ahead without it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.candidates import find_candidate
from correction_server.closing.records import keep_decision, who
from correction_server.closing.refusals import ClosingRefused, clean_reason
from correction_server.models import (
    Copy,
    IdentityLink,
    Marking,
    MarkingStatus,
    MissingDeclaration,
    RollEntry,
)


def declare_missing(
    session: Session, paper_id: int, registration: str, reason: str, actor: audit.Actor, by_name: str
) -> MissingDeclaration:
    candidate = find_candidate(session, registration)
    on_roll = session.scalar(
        select(RollEntry.id).where(RollEntry.candidate_id == candidate.id, RollEntry.paper_id == paper_id)
    )
    if on_roll is None:
        raise ClosingRefused("closing.err.not_registered", registration=candidate.registration)
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
        raise ClosingRefused("closing.err.missing_marked", registration=candidate.registration)
    existing = session.scalar(
        select(MissingDeclaration).where(
            MissingDeclaration.candidate_id == candidate.id, MissingDeclaration.paper_id == paper_id
        )
    )
    if existing is not None:
        raise ClosingRefused("closing.err.already_missing", registration=candidate.registration)
    declared = MissingDeclaration(
        candidate_id=candidate.id,
        paper_id=paper_id,
        reason=clean_reason(reason, "closing.err.reason_missing"),
        by_id=actor.user_id,
        by_name=who(by_name),
        at=datetime.now(UTC),
    )
    details = {"paper_id": paper_id, "reason": declared.reason, "by": declared.by_name}
    keep_decision(session, actor, declared, "closing.declare_missing", candidate.registration, details)
    return declared

