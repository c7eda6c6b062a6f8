"""Holds: during a fraud procedure a candidate's results (the jury export) and copy access (the
consultation) are held; nothing changes on the correctors' side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.candidates import find_candidate
from correction_server.closing.records import keep_decision, who
from correction_server.closing.refusals import ClosingRefused, clean_reason
from correction_server.models import Candidate, Hold


def active_hold(session: Session, candidate_id: int) -> Hold | None:
    return session.scalar(select(Hold).where(Hold.candidate_id == candidate_id, Hold.released_at.is_(None)))


def place_hold(session: Session, registration: str, reason: str, actor: audit.Actor, by_name: str) -> Hold:
    candidate = find_candidate(session, registration)
    if active_hold(session, candidate.id) is not None:
        raise ClosingRefused("closing.err.already_held", registration=candidate.registration)
    hold = Hold(
        candidate_id=candidate.id,
        reason=clean_reason(reason, "closing.err.reason_hold"),
        by_id=actor.user_id,
        by_name=who(by_name),
        at=datetime.now(UTC),
    )
    details = {"reason": hold.reason, "by": hold.by_name}
    keep_decision(session, actor, hold, "closing.hold", candidate.registration, details)
    return hold


def release_hold(session: Session, registration: str, reason: str, actor: audit.Actor, by_name: str) -> Hold:
    candidate = find_candidate(session, registration)
    hold = active_hold(session, candidate.id)
    if hold is None:
        raise ClosingRefused("closing.err.not_held", registration=candidate.registration)
    hold.released_at = datetime.now(UTC)
    hold.released_by_id = actor.user_id
    hold.released_by_name = who(by_name)
    hold.release_reason = clean_reason(reason, "closing.err.reason_release")
    details = {"reason": hold.release_reason, "by": hold.released_by_name}
    keep_decision(session, actor, hold, "closing.hold_release", candidate.registration, details)
    return hold


@dataclass(frozen=True)
class HoldView:
    registration: str
    name: str
    reason: str
    by_name: str
    at: datetime


def open_holds(session: Session) -> list[HoldView]:
    return [
        HoldView(c.registration, f"{c.surname} {c.given_names}", h.reason, h.by_name, h.at)
        for h, c in session.execute(
            select(Hold, Candidate)
            .join(Candidate, Candidate.id == Hold.candidate_id)
            .where(Hold.released_at.is_(None))
            .order_by(Hold.at)
        )
    ]
