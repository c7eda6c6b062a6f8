"""The office records conflicts of interest (003 §C; 001 "tables des incompatibilités"; rule 23).

- `teaches_also`: another établissement where a corrector teaches (the accounts import does it
  too, with several UAIs in `establishment_uai`);
- `record`: an explicit incompatibility, corrector ↔ candidate (a professional and his trainee)
  or corrector ↔ établissement, with its reason.
Each is audited. Dispatch, reassignment and second reading read them through
`correction_server.dispatch.conflicts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.models import (
    Candidate,
    CorrectorEstablishment,
    Establishment,
    Incompatibility,
    Role,
    User,
)
from massicot_core.errors import UserError


def _corrector(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or user.role not in (Role.CORRECTOR, Role.COORDINATOR):
        raise UserError(f"No corrector has the login {username!r}: check the e-mail address he logs in with.")
    return user


def _establishment(session: Session, uai: str) -> Establishment:
    found = session.scalar(select(Establishment).where(Establishment.uai == uai.strip().upper()))
    if found is None:
        raise UserError(
            f"No établissement has the UAI code {uai!r} on this server (import the candidates first)."
        )
    return found


def teaches_also(session: Session, actor: audit.Actor, username: str, uai: str) -> str:
    user = _corrector(session, username)
    school = _establishment(session, uai)
    known = user.establishment_id == school.id or session.scalar(
        select(CorrectorEstablishment.id).where(
            CorrectorEstablishment.user_id == user.id, CorrectorEstablishment.establishment_id == school.id
        )
    )
    if known:
        return f"{user.username} already teaches at {school.uai}: nothing changed."
    session.add(CorrectorEstablishment(user_id=user.id, establishment_id=school.id))
    session.flush()
    audit.record(session, actor, "incompatibility.teaches", "user", user.id, {"establishment": school.uai})
    session.commit()
    return f"{user.username} also teaches at {school.uai}: he will never be given its candidates."


def record(
    session: Session,
    actor: audit.Actor,
    by_name: str,
    username: str,
    *,
    candidate: str | None = None,
    establishment: str | None = None,
    reason: str = "",
) -> Incompatibility:
    if (candidate is None) == (establishment is None):
        raise UserError("Give either --candidate REGISTRATION or --establishment UAI (one of them).")
    if not reason.strip():
        raise UserError("Say why (--reason): it is kept with the incompatibility.")
    user = _corrector(session, username)
    row = Incompatibility(corrector_id=user.id, reason=reason.strip(), recorded_by=by_name[:200])
    details: dict[str, object] = {"corrector": user.username, "reason": row.reason}
    if candidate is not None:
        found = session.scalar(select(Candidate).where(Candidate.registration == candidate.strip().upper()))
        if found is None:
            raise UserError(f"No candidate has the registration number {candidate!r}.")
        row.candidate_id = found.id
        details["candidate"] = found.registration
    else:
        school = _establishment(session, establishment or "")
        row.establishment_id = school.id
        details["establishment"] = school.uai
    session.add(row)
    session.flush()
    details["incompatibility"] = row.id
    audit.record(session, actor, "incompatibility.record", "user", user.id, details)
    session.commit()
    return row


@dataclass(frozen=True)
class IncompatibilityLine:
    id: int
    corrector: str
    candidate: str | None
    establishment: str | None
    reason: str


def listing(session: Session) -> list[IncompatibilityLine]:
    rows = session.execute(
        select(Incompatibility, User.username, Candidate.registration, Establishment.uai)
        .join(User, User.id == Incompatibility.corrector_id)
        .outerjoin(Candidate, Candidate.id == Incompatibility.candidate_id)
        .outerjoin(Establishment, Establishment.id == Incompatibility.establishment_id)
        .order_by(Incompatibility.id)
    ).all()
    return [IncompatibilityLine(i.id, u, reg, uai, i.reason) for i, u, reg, uai in rows]
