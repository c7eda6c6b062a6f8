"""Changing passwords: a person's own change (current password, the new one twice) and the
office's reset from the command line (a one-time password, replaced at the next login).

The rule, in the words the page shows (`RULE_KEY`): at least `auth.MIN_PASSWORD_LENGTH`
characters, at least `MIN_DISTINCT` of them different, neither the username nor the current
password. Length is what makes a password hard to guess; a sentence of a few words is long and easy
to remember, so no mix of digits and symbols is demanded on top.

Changing one's password ends every other login session of that account (a stolen cookie stops
working); the session that made the change stays open. A reset ends them all.

Every change and reset is in the audit log, in the same transaction: who, whose account, when (the
entry's time), how many sessions ended. Never the password or its hash: the log is read by people
who must not learn either, and a hash kept there forever could be attacked at leisure.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.audit.actors import SYSTEM, Actor, actor_of
from correction_server.auth import sessions as auth
from correction_server.auth.login_limit import LoginRateLimiter
from correction_server.models.accounts import User
from massicot_core.errors import UserError

MIN_DISTINCT = 5
RULE_KEY = "account.password.rule"
# Audit log actions (object: the account, "user" and its id).
CHANGED = "account.password_change"
SET_BY_LINK = "account.password_set_by_link"
RESET = "account.password_reset"
COMMAND_LINE_OFFICE = "exam office (command line)"


class PasswordRefused(ValueError):
    """The change was not made; `key` names the reason in the page's words (account.password.err.*)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def check_new_password(username: str, new: str, confirm: str, current: str | None = None) -> None:
    """Raise PasswordRefused unless `new` follows the rule and `confirm` repeats it."""
    if new != confirm:
        raise PasswordRefused("mismatch", "The new password and its confirmation differ.")
    if len(new) < auth.MIN_PASSWORD_LENGTH:
        raise PasswordRefused(
            "too_short", f"A password needs at least {auth.MIN_PASSWORD_LENGTH} characters."
        )
    if len(set(new)) < MIN_DISTINCT:
        raise PasswordRefused("too_simple", f"A password needs at least {MIN_DISTINCT} different characters.")
    name = username.split("@", 1)[0].strip().lower()
    if len(name) >= 3 and name in new.lower():
        raise PasswordRefused("has_username", "A password may not contain the username.")
    if current is not None and new == current:
        raise PasswordRefused("same", "The new password must differ from the current one.")


def change_own_password(
    session: Session, user_id: int, current: str, new: str, confirm: str, keep_login_id: str
) -> User:
    """Check the current password, set the new one, end the account's other sessions. Caller commits."""
    # Read again, not the request's cached copy: the hash may have changed seconds ago elsewhere.
    user = session.get(User, user_id, populate_existing=True, with_for_update=True)
    if user is None or not auth.verify_password(user.password_hash, current):
        raise PasswordRefused("wrong_current", "The current password is not right.")
    check_new_password(user.username, new, confirm, current)
    replaced_one_time = user.must_change_password
    user.password_hash = auth.hash_password(new)
    user.must_change_password = False
    ended = auth.close_other_sessions(session, user.id, keep_login_id)
    audit.record(
        session,
        actor_of(user),
        CHANGED,
        "user",
        user.id,
        {"username": user.username, "replaced_one_time": replaced_one_time, "sessions_ended": ended},
    )
    return user


@dataclass(frozen=True)
class ChangeRefused:
    """Why a person's own change was not made: `key` under account.password.err.*, the HTTP
    status, and for a refused attempt (429) the seconds to wait."""

    key: str
    status: int
    retry_after: int = 0


def change_own_password_limited(
    session: Session,
    limiter: LoginRateLimiter,
    user: User,
    client_ip: str,
    passwords: tuple[str, str, str],
    keep_login_id: str,
) -> ChangeRefused | None:
    """`change_own_password` under the login rate limit, committed; None when it was made.

    `passwords`: the current one, the new one and its confirmation. A wrong current password
    counts as a failed login, so a borrowed session cannot be used to guess the password; a new
    password refused after the right current one is not a guess, and is not counted.
    """
    attempt = limiter.begin(session, user.username, client_ip)
    if attempt.refused:
        key = "too_many_here" if attempt.per_address else "too_many"
        return ChangeRefused(key, 429, attempt.retry_after)
    current, new, confirm = passwords
    try:
        change_own_password(session, user.id, current, new, confirm, keep_login_id)
    except PasswordRefused as exc:
        session.rollback()
        if exc.key != "wrong_current":
            limiter.withdraw(session, attempt)
            session.commit()
        return ChangeRefused(exc.key, 400)
    limiter.succeeded(session, attempt)
    session.commit()
    return None


def set_password_by_link(session: Session, user: User, new: str, confirm: str) -> None:
    """The person chooses his password through a set-password link. Caller commits."""
    check_new_password(user.username, new, confirm)
    user.password_hash = auth.hash_password(new)
    user.must_change_password = False  # chosen by the person himself
    ended = auth.close_all_sessions(session, user.id)
    audit.record(
        session,
        actor_of(user),
        SET_BY_LINK,
        "user",
        user.id,
        {"username": user.username, "sessions_ended": ended},
    )


@dataclass(frozen=True)
class PasswordReset:
    username: str
    one_time_password: str
    sessions_ended: int


def existing_account(session: Session, username: str) -> User:
    """The account with this username, in any case (usernames are e-mail addresses), or a
    UserError saying what to check."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise UserError(
            f"No account has the username {username!r}. Usernames are e-mail addresses; "
            "check the spelling, or create the account with `massicot office users import`."
        )
    return user


def reset_password(
    session: Session, username: str, actor: Actor = SYSTEM, by_name: str = COMMAND_LINE_OFFICE
) -> PasswordReset:
    """A one-time password for an account; its owner must replace it at the next login. Caller commits.

    `by_name` says who reset it: a command on the server has no account of its own (`--by`)."""
    user = existing_account(session, username)
    if not user.active:
        raise UserError(f"The account {user.username} is disabled: enable it before resetting its password.")
    one_time = auth.generate_password()
    user.password_hash = auth.hash_password(one_time)
    user.must_change_password = True
    ended = auth.close_all_sessions(session, user.id)
    audit.record(
        session,
        actor,
        RESET,
        "user",
        user.id,
        {"username": user.username, "by": by_name.strip() or COMMAND_LINE_OFFICE, "sessions_ended": ended},
    )
    return PasswordReset(user.username, one_time, ended)
