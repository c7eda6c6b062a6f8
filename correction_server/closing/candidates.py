"""The candidate the office names (by registration number) and his one copy of a paper."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.closing.refusals import ClosingRefused
from correction_server.models import Candidate, Copy, IdentityLink


def find_candidate(session: Session, registration: str) -> Candidate:
    candidate = session.scalar(
        select(Candidate).where(Candidate.registration == (registration or "").strip().upper())
    )
    if candidate is None:
        raise ClosingRefused("closing.err.no_candidate", registration=registration)
    return candidate


def copy_of(session: Session, paper_id: int, candidate: Candidate) -> Copy:
    """The candidate's copy; refused while he has none, or several (a wrong link to resolve)."""
    copies = session.scalars(
        select(Copy)
        .join(IdentityLink, IdentityLink.copy_id == Copy.id)
        .where(Copy.paper_id == paper_id, IdentityLink.candidate_id == candidate.id)
    ).all()
    if not copies:
        raise ClosingRefused("closing.err.no_copy", registration=candidate.registration)
    if len(copies) > 1:
        raise ClosingRefused(
            "closing.err.several_copies", registration=candidate.registration, n=len(copies)
        )
    return copies[0]
