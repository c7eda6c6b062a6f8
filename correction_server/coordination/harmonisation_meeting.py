"""The harmonisation meeting after marking (`003` §D: "aucune note ne sera saisie avant la
réunion d'harmonisation"; `000`: "modification des notes suite commission").

Its record (date, who attended, minutes) is what lets a paper's marks go to the jury: the
exports ask `ensure_harmonised`. Its mark changes are correction_server.coordination.harmonisation_rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.models import HarmonisationMeeting, Paper
from massicot_core.errors import Refused


class HarmonisationRefused(Refused):
    """A harmonisation request the rules refuse: `harmonisation.err.<name>` of the catalogue."""

    status = 409

    def __init__(self, name: str, **values: object) -> None:
        super().__init__(None, f"harmonisation.err.{name}", **values)


def meeting_of(session: Session, paper_id: int) -> HarmonisationMeeting | None:
    """The paper's latest harmonisation meeting, or None."""
    return session.scalar(
        select(HarmonisationMeeting)
        .where(HarmonisationMeeting.paper_id == paper_id)
        .order_by(HarmonisationMeeting.id.desc())
        .limit(1)
    )


def ensure_harmonised(session: Session, paper_id: int) -> HarmonisationMeeting:
    meeting = meeting_of(session, paper_id)
    if meeting is None:
        paper = session.get(Paper, paper_id)
        raise HarmonisationRefused("no_meeting", paper=paper.code if paper else paper_id)
    return meeting


def record_meeting(
    session: Session,
    paper_id: int,
    held_on: date | None,
    attendees: str,
    minutes: str,
    actor: audit.Actor,
    by_name: str,
) -> HarmonisationMeeting:
    """The coordinator or the office records the meeting; several may be held, the latest counts."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise HarmonisationRefused("no_paper")
    if held_on is None:
        raise HarmonisationRefused("meeting_date")
    attendees, minutes = (attendees or "").strip(), (minutes or "").strip()
    if not attendees:
        raise HarmonisationRefused("meeting_attendees")
    if not minutes:
        raise HarmonisationRefused("meeting_minutes")
    meeting = HarmonisationMeeting(
        paper_id=paper_id,
        held_on=held_on,
        attendees=attendees,
        minutes=minutes,
        by_id=actor.user_id,
        by_name=(by_name or "").strip() or "exam office",
        at=datetime.now(UTC),
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        actor,
        "coordination.harmonisation_meeting",
        "paper",
        paper_id,
        {
            "paper": paper.code,
            "held_on": held_on.isoformat(),
            "attendees": attendees,
            "minutes": minutes,
            "by": meeting.by_name,
        },
    )
    return meeting
