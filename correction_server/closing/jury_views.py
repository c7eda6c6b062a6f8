"""What the closing pages show of the jury rules, read in one place: the harmonisation meeting
(the export's gate), the jury's meetings (frozen or not), justified absences, the paper's pay
level and the session's rates, and the paper's correctors (for the confirmation of the work)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.closing.absence import replacement_list
from correction_server.closing.deliberation import meetings_of
from correction_server.closing.payment import LEVELS, rates_of
from correction_server.coordination.harmonisation_meeting import meeting_of
from correction_server.coordination.people import display_name
from correction_server.marking.frozen import is_frozen
from correction_server.models import CorrectorPaper, Paper, PaperPayLevel, Role, User


def paper_correctors(session: Session, paper_id: int) -> list[tuple[int, str]]:
    """(id, name) of the paper's correctors, by name."""
    users = session.scalars(
        select(User)
        .join(CorrectorPaper, CorrectorPaper.user_id == User.id)
        .where(CorrectorPaper.paper_id == paper_id, User.role == Role.CORRECTOR)
    )
    return sorted(((u.id, display_name(u)) for u in users), key=lambda x: x[1].lower())


def jury_context(session: Session, paper_id: int) -> dict[str, object]:
    paper = session.get(Paper, paper_id)
    rates, weight = rates_of(session, paper.session_id)
    return {
        "harmonisation": meeting_of(session, paper_id),
        "jury_meetings": meetings_of(session, paper_id),
        "frozen": is_frozen(session, paper_id),
        "justified": replacement_list(session, paper_id),
        "pay_level": session.scalar(select(PaperPayLevel.level).where(PaperPayLevel.paper_id == paper_id))
        or "",
        "pay_levels": LEVELS,
        "pay_rates": rates,
        "pay_weight": weight,
        "paper_correctors": paper_correctors(session, paper_id),
    }
