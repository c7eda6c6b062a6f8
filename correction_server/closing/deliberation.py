"""The jury's meetings on a paper: a deliberation freezes its marks; a reconvened jury (for a
material error) thaws them until the next deliberation is recorded (fiche 6 §IV.4, fiche 10)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.records import who
from correction_server.closing.refusals import ClosingRefused
from correction_server.marking.frozen import DELIBERATION, RECONVENED, is_frozen
from correction_server.models import JuryMeeting, Paper


def ensure_marks_open(session: Session, paper_id: int) -> None:
    """Refuse, in plain words, any change of a mark of a paper the jury has deliberated on."""
    if is_frozen(session, paper_id):
        paper = session.get(Paper, paper_id)
        raise ClosingRefused("jury.err.frozen", paper=paper.code if paper else paper_id)


def meetings_of(session: Session, paper_id: int) -> list[JuryMeeting]:
    return list(
        session.scalars(select(JuryMeeting).where(JuryMeeting.paper_id == paper_id).order_by(JuryMeeting.id))
    )


def record_jury_meeting(
    session: Session,
    paper_id: int,
    kind: str,
    held_on: date,
    minutes: str,
    actor: audit.Actor,
    by_name: str,
) -> JuryMeeting:
    """A deliberation (marks frozen after it) or a reconvened jury (marks may change again)."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise ClosingRefused("jury.err.no_paper")
    if kind not in (DELIBERATION, RECONVENED):
        raise ClosingRefused("jury.err.meeting_kind", kind=kind)
    frozen = is_frozen(session, paper_id)
    if kind == DELIBERATION and frozen:
        raise ClosingRefused("jury.err.already_deliberated", paper=paper.code)
    if kind == RECONVENED and not frozen:
        raise ClosingRefused("jury.err.not_deliberated", paper=paper.code)
    minutes = (minutes or "").strip()
    if kind == RECONVENED and not minutes:
        raise ClosingRefused("jury.err.reconvene_why")
    meeting = JuryMeeting(
        paper_id=paper_id,
        kind=kind,
        held_on=held_on,
        minutes=minutes,
        by_id=actor.user_id,
        by_name=who(by_name),
        at=datetime.now(UTC),
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        actor,
        f"closing.jury_{kind}",
        "paper",
        paper_id,
        {"paper": paper.code, "held_on": held_on.isoformat(), "minutes": minutes, "by": meeting.by_name},
    )
    return meeting
