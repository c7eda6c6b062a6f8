"""Activating a candidate's account with his letter, and the candidate's login.

Activation asks for the registration number, the birth date and the letter's code, then the
password the candidate chooses (the staff rule: auth.passwords.check_new_password). A code that
is right but used, revoked by a newer letter or expired is refused in those words (only the
letter's holder can learn that); anything else that does not match gets one sentence, whatever
was wrong, so the page tells no one which registration numbers exist.

Attempts (activation and login) go through the same LoginRateLimiter as staff logins, under keys
of their own ("candidate:" before the username and the address): candidates behind one school's
network never use up the staff's per-address ceiling, nor the staff theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.audit.actors import actor_of
from correction_server.auth import sessions as auth
from correction_server.auth.login_limit import LoginRateLimiter
from correction_server.auth.passwords import MIN_DISTINCT, PasswordRefused, check_new_password
from correction_server.candidate_space.letters import code_hash
from correction_server.models import ActivationCode, Candidate, CandidateAccount, Role, User
from massicot_core.errors import Refused

ACTIVATED = "candidate.activated"
KEY_PREFIX = "candidate:"


def username_of(registration: str) -> str:
    """The account's username: the registration number, which is what the candidate types."""
    return registration.strip().upper()


def limiter_keys(what: str, registration: str, client_ip: str) -> tuple[str, str]:
    return f"{KEY_PREFIX}{what}:{registration.strip().upper()}", f"{KEY_PREFIX}{client_ip}"


def parse_birth_date(text: str) -> date | None:
    """A birth date as a French reader types it (31/12/2007) or as a date field sends it (2007-12-31)."""
    text = (text or "").strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Activated:
    user: User
    candidate: Candidate
    opened: auth.OpenedSession


def activate(
    session: Session,
    limiter: LoginRateLimiter,
    secret_key: str,
    client_ip: str,
    registration: str,
    birth_date: str,
    code: str,
    passwords: tuple[str, str],
    now: datetime | None = None,
) -> Activated:
    """Check the letter, set the chosen password, open a login session. Commits.

    Raises Refused (candidate.err.*) and leaves nothing changed but the attempt's count."""
    now = now or datetime.now(UTC)
    user_key, ip_key = limiter_keys("activate", registration, client_ip)
    attempt = limiter.begin(session, user_key, ip_key)
    if attempt.refused:
        key = "candidate.err.too_many_here" if attempt.per_address else "candidate.err.too_many"
        raise Refused(
            429, key, minutes=(attempt.retry_after + 59) // 60, extra={"retry_after": attempt.retry_after}
        )
    candidate = session.scalar(
        select(Candidate).where(Candidate.registration == registration.strip().upper())
    )
    row = session.scalar(select(ActivationCode).where(ActivationCode.code_sha256 == code_hash(code)))
    born = parse_birth_date(birth_date)
    if (
        candidate is None
        or row is None
        or row.candidate_id != candidate.id
        or candidate.birth_date is None
        or born != candidate.birth_date
    ):
        raise Refused(400, "candidate.err.no_match")  # the attempt stays counted as a failure
    # The right letter from here on: what is wrong with it is said plainly, and is no guess.
    if row.used_at is not None:
        limiter.withdraw(session, attempt)
        session.commit()
        raise Refused(400, "candidate.err.code_used", day=row.used_at.date().isoformat())
    if row.revoked_at is not None:
        limiter.withdraw(session, attempt)
        session.commit()
        raise Refused(400, "candidate.err.code_replaced")
    if row.expires_at <= now:
        limiter.withdraw(session, attempt)
        session.commit()
        raise Refused(400, "candidate.err.code_expired", day=row.expires_at.date().isoformat())
    new, confirm = passwords
    username = username_of(candidate.registration)
    try:
        check_new_password(username, new, confirm)
    except PasswordRefused as exc:
        limiter.withdraw(session, attempt)
        session.commit()
        raise Refused(
            400, f"account.password.err.{exc.key}", n=auth.MIN_PASSWORD_LENGTH, distinct=MIN_DISTINCT
        ) from None
    account = session.scalar(select(CandidateAccount).where(CandidateAccount.candidate_id == candidate.id))
    if account is None:
        user = User(
            username=username,
            display_name=f"{candidate.given_names} {candidate.surname}",
            role=Role.CANDIDATE,
            active=True,
        )
        session.add(user)
        session.flush()
        session.add(CandidateAccount(user_id=user.id, candidate_id=candidate.id, activated_at=now))
        first = True
    else:
        # A new letter for a forgotten password: same account, new password, old sessions end.
        user = session.get(User, account.user_id)
        user.active = True
        auth.close_all_sessions(session, user.id)
        first = False
    user.password_hash = auth.hash_password(new)
    user.must_change_password = False
    row.used_at = now
    limiter.succeeded(session, attempt)
    opened = auth.open_session(session, user, secret_key)
    audit.record(
        session,
        actor_of(user),
        ACTIVATED,
        "candidate",
        candidate.registration,
        {"first_activation": first, "code_issued_at": row.issued_at},
    )
    session.commit()
    return Activated(user, candidate, opened)


def candidate_login(
    session: Session,
    limiter: LoginRateLimiter,
    secret_key: str,
    client_ip: str,
    registration: str,
    password: str,
) -> auth.OpenedSession:
    """The candidate's login (registration number + password), counted apart from staff logins. Commits."""
    user_key, ip_key = limiter_keys("login", registration, client_ip)
    attempt = limiter.begin(session, user_key, ip_key)
    if attempt.refused:
        key = "candidate.err.too_many_here" if attempt.per_address else "candidate.err.too_many"
        raise Refused(
            429, key, minutes=(attempt.retry_after + 59) // 60, extra={"retry_after": attempt.retry_after}
        )
    user = auth.authenticate(session, username_of(registration), password)
    if user is None or user.role != Role.CANDIDATE:
        raise Refused(401, "candidate.err.login_failed")
    limiter.succeeded(session, attempt)
    opened = auth.open_session(session, user, secret_key)
    session.commit()
    return opened


def candidate_of(session: Session, user: User) -> Candidate | None:
    """The candidate behind a candidate account (None for any other account)."""
    if user.role != Role.CANDIDATE:
        return None
    return session.scalar(
        select(Candidate)
        .join(CandidateAccount, CandidateAccount.candidate_id == Candidate.id)
        .where(CandidateAccount.user_id == user.id)
    )
