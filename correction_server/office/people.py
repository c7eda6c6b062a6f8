"""The people of the session as the office manages them in the console: the accounts (role,
establishment, papers, whether they ever logged in), one account added by hand, an account
disabled or enabled again. Imports, set-password links and one-time passwords are the services of
`office.accounts` and `auth.passwords`, the same as the command line's.

Every change goes into the audit log (who, whose account, when); never a password or a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.audit.actors import Actor
from correction_server.auth import sessions as auth
from correction_server.models import CorrectorPaper, Establishment, Paper, Role, User
from correction_server.office.accounts import AccountsImported, _parse_line, apply_accounts
from correction_server.office.import_report import ImportRejected, Problem
from massicot_core.errors import UserError

ACCOUNT_DISABLED = "account.disable"
ACCOUNT_ENABLED = "account.enable"
PEOPLE_ROLES = (Role.OFFICE, Role.COORDINATOR, Role.CORRECTOR)


@dataclass(frozen=True)
class Person:
    user_id: int
    username: str
    name: str
    role: Role
    establishment: str
    papers: list[str]
    active: bool
    last_login_at: datetime | None
    has_password: bool


def people(session: Session) -> list[Person]:
    """Every account but the stations', by role then name."""
    uai = dict(session.execute(select(Establishment.id, Establishment.uai)).all())
    papers: dict[int, list[str]] = {}
    for user_id, code, capacity in session.execute(
        select(CorrectorPaper.user_id, Paper.code, CorrectorPaper.capacity)
        .join(Paper, Paper.id == CorrectorPaper.paper_id)
        .order_by(Paper.code)
    ):
        papers.setdefault(user_id, []).append(f"{code}:{capacity}" if capacity else code)
    users = session.scalars(
        select(User).where(User.role.in_(PEOPLE_ROLES)).order_by(User.role, User.username)
    )
    return [
        Person(
            u.id,
            u.username,
            u.display_name,
            u.role,
            uai.get(u.establishment_id, ""),
            papers.get(u.id, []),
            u.active,
            u.last_login_at,
            u.password_hash is not None,
        )
        for u in users
    ]


def add_account(
    session: Session,
    values: dict[str, str],
    secret_key: str,
    actor: Actor,
    by_name: str,
) -> AccountsImported:
    """One account typed in the console's form (the columns of the accounts file), created with a
    set-password link, through the same checks and audit entries as an imported file. Caller commits."""
    problems: list[Problem] = []
    line = _parse_line(1, values, problems)
    if line is None:
        raise ImportRejected("form", problems)
    return apply_accounts(session, [line], "form", secret_key, True, actor, by_name)


def set_active(session: Session, user_id: int, active: bool, actor: Actor, by_name: str) -> User:
    """Disable an account (its logins end at once) or enable it again; audited. Caller commits."""
    user = session.get(User, user_id)
    if user is None or user.role not in PEOPLE_ROLES:
        raise UserError(f"There is no account #{user_id}.")
    if actor.user_id == user.id and not active:
        raise UserError("You cannot disable your own account.")
    if user.active == active:
        return user
    user.active = active
    ended = 0 if active else auth.close_all_sessions(session, user.id)
    audit.record(
        session,
        actor,
        ACCOUNT_ENABLED if active else ACCOUNT_DISABLED,
        "user",
        user.id,
        {"username": user.username, "by": by_name, "sessions_ended": ended},
    )
    return user
