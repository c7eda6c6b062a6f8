"""Who works on a paper, as the coordination sees them: its correctors, their names on the
pages, the audit actor of a user, and the établissement of a copy's candidate (the dispatch rule).

The établissement is read through IdentityLink with service rights, like the dispatch; it is
used to refuse, never shown: no page says which candidate or school is concerned.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.models import Candidate, CorrectorPaper, IdentityLink, Role, User


def display_name(user: User) -> str:
    return user.display_name or user.username


def paper_correctors(session: Session, paper_id: int) -> dict[int, User]:
    return {
        u.id: u
        for u in session.scalars(
            select(User)
            .join(CorrectorPaper, CorrectorPaper.user_id == User.id)
            .where(CorrectorPaper.paper_id == paper_id, User.role == Role.CORRECTOR)
        )
    }


def correctors_of_paper(session: Session, paper_id: int) -> list[tuple[int, str]]:
    """The paper's active correctors, (id, name), by name."""
    return sorted(
        ((u.id, display_name(u)) for u in paper_correctors(session, paper_id).values() if u.active),
        key=lambda pair: pair[1].lower(),
    )


def candidate_school(session: Session, copy_ids: list[str]) -> dict[str, int | None]:
    """The établissement of each copy's candidate, for the dispatch rule only."""
    return dict(
        session.execute(
            select(IdentityLink.copy_id, Candidate.establishment_id)
            .join(Candidate, Candidate.id == IdentityLink.candidate_id)
            .where(IdentityLink.copy_id.in_(copy_ids or [""]))
        ).all()
    )
