"""The login rate limit: failed logins counted in the database, shared by every server process.

Two ceilings, each over a sliding window of `LOGIN_WINDOW_SECONDS`:

- `LOGIN_MAX_FAILURES` per (username, client IP): slows down guessing one account's password,
  without holding up the same account from another address or another account from this one;
- `LOGIN_MAX_FAILURES_PER_IP` per client IP, whatever the username: one machine cannot try a
  likely password on every account.

Once a ceiling is reached, attempts are refused, even with the right password, until the oldest
failure that counts has left the window. Refused attempts are not counted, so waiting is enough.

The failures live in the table `login_failure`, not in a server process: `massicot serve` runs
one process per core, and a count per process would give a guesser that many times the allowed
attempts, and forget them all at a restart.

An attempt counts as a failure from the moment it starts: `begin` records it and commits before
the password is checked. Attempts checked at the same time, by several threads or processes, so
see each other, and a burst of simultaneous guesses gets no more tries than guesses one after
another. A success deletes the pair's failures, its own row included; an attempt that turns out
not to test the password (the password page's other refusals) withdraws its own row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from correction_server.models.logins import LoginFailure

LOGIN_MAX_FAILURES = 5
LOGIN_MAX_FAILURES_PER_IP = 50
LOGIN_WINDOW_SECONDS = 15 * 60
# Column sizes of login_failure: no account has a longer username (app_user.username is 120).
_USERNAME_LENGTH = 120
_IP_LENGTH = 64


@dataclass(frozen=True)
class LoginAttempt:
    """One login (or current-password) attempt, counted or refused."""

    username: str  # the key: stripped, lower-cased
    client_ip: str
    failure_id: int | None  # the row that counts this attempt; None when it was refused
    retry_after: int = 0  # seconds to wait before trying again; 0 when the attempt may go on
    per_address: bool = False  # refused by the address's ceiling across usernames

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _username_key(username: str) -> str:
    # Logins are e-mail addresses, accepted in any case: OFFICE@x and office@x are one account.
    return username.strip().lower()[:_USERNAME_LENGTH]


class LoginRateLimiter:
    """The ceilings and the clock; the counts are in the database, read through the Session given."""

    def __init__(
        self,
        max_failures: int = LOGIN_MAX_FAILURES,
        window_seconds: float = LOGIN_WINDOW_SECONDS,
        max_failures_per_ip: int = LOGIN_MAX_FAILURES_PER_IP,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_failures_per_ip = max_failures_per_ip
        self.clock = clock

    def begin(self, session: Session, username: str, client_ip: str) -> LoginAttempt:
        """Count this attempt as a failure, or refuse it when a ceiling is reached.

        Commits the session (twice when refused): the attempt must be visible to every other
        request before this one checks the password, or simultaneous guesses would each find
        the count below the ceiling. Failures older than the window are deleted here, so the
        table stays small.
        """
        user_key, ip_key = _username_key(username), client_ip[:_IP_LENGTH]
        now = self.clock()
        cutoff = now - timedelta(seconds=self.window_seconds)
        # Rows another request is deleting already are skipped, not waited for (PostgreSQL; SQLite
        # has one writer at a time anyway): attempts arriving together never queue on the purge.
        expired = select(LoginFailure.id).where(LoginFailure.at <= cutoff).with_for_update(skip_locked=True)
        session.execute(delete(LoginFailure).where(LoginFailure.id.in_(expired)))
        row = LoginFailure(username=user_key, client_ip=ip_key, at=now)
        session.add(row)
        session.flush()
        own_id = row.id
        session.commit()

        same_ip = LoginFailure.client_ip == ip_key
        pair_wait = self._wait(
            session, now, own_id, self.max_failures, LoginFailure.username == user_key, same_ip
        )
        address_wait = self._wait(session, now, own_id, self.max_failures_per_ip, same_ip)
        if not pair_wait and not address_wait:
            return LoginAttempt(user_key, ip_key, own_id)
        session.execute(delete(LoginFailure).where(LoginFailure.id == own_id))
        session.commit()
        return LoginAttempt(
            user_key,
            ip_key,
            None,
            retry_after=max(pair_wait, address_wait),
            per_address=address_wait > pair_wait,
        )

    def succeeded(self, session: Session, attempt: LoginAttempt) -> None:
        """The password was right: the pair starts afresh. Caller commits (with the login itself)."""
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.username == attempt.username, LoginFailure.client_ip == attempt.client_ip
            )
        )

    def withdraw(self, session: Session, attempt: LoginAttempt) -> None:
        """The attempt was refused for another reason than a wrong password: it does not count.
        Caller commits."""
        if attempt.failure_id is not None:
            session.execute(delete(LoginFailure).where(LoginFailure.id == attempt.failure_id))

    def _wait(
        self, session: Session, now: datetime, own_id: int, ceiling: int, *which: ColumnElement[bool]
    ) -> int:
        """Seconds until fewer than `ceiling` earlier failures matching `which` are in the window."""
        cutoff = now - timedelta(seconds=self.window_seconds)
        # The ceiling-th most recent earlier failure: once it has left the window, fewer remain.
        oldest_that_counts = session.scalar(
            select(LoginFailure.at)
            .where(*which, LoginFailure.at > cutoff, LoginFailure.id != own_id)
            .order_by(LoginFailure.at.desc(), LoginFailure.id.desc())
            .offset(ceiling - 1)
            .limit(1)
        )
        if oldest_that_counts is None:
            return 0
        left = (oldest_that_counts - now).total_seconds() + self.window_seconds
        return max(1, math.ceil(left))
