"""Authentication: passwords, login sessions in signed cookies, CSRF tokens, login rate limit.

Who may do what is decided in `correction_server.auth.access`; this module only answers "who is
this browser?".

- Passwords are hashed with argon2id (argon2-cffi defaults); a hash made with older
  parameters is upgraded at the next successful login.
- A login creates a `LoginSession` row; the cookie `massicot_session` carries its id, signed
  with the installation's secret (itsdangerous), HttpOnly, SameSite=Lax, Secure over https.
  Logout deletes the row, so a copied cookie stops working too.
- Every state-changing request from a logged-in browser must carry the session's CSRF token:
  the form field `csrf_token` (HTML forms) or the header `X-CSRF-Token` (JavaScript fetch).
  Templates get it as `csrf_token`; the base layout also puts it in
  `<meta name="csrf-token">` for scripts.
- The login form itself is protected by a double-submit token (cookie `massicot_pre` = form
  field `csrf_token`), since there is no session yet.
- Failed logins are limited per (username, client IP) and per client IP, counted in the
  database so that every server process shares the count: `correction_server.login_limit`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from correction_server.models.accounts import User
from correction_server.models.logins import LoginSession

SESSION_COOKIE = "massicot_session"
PRE_LOGIN_COOKIE = "massicot_pre"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# A correction evening is long; a day-old session must log in again.
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verifying against this when the username is unknown makes both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    """The password is too short; the message says what is expected."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """An initial password: 16 URL-safe characters, ~96 bits."""
    return secrets.token_urlsafe(12)


# --- login sessions ------------------------------------------------------------------------


def _serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


@dataclass(frozen=True)
class OpenedSession:
    cookie_value: str
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, user: User, secret_key: str) -> OpenedSession:
    """Record a new login for `user` and return the cookie value to set. Caller commits."""
    now = datetime.now(UTC)
    row = LoginSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    # The office sees who has never logged in (its people page).
    user.last_login_at = now
    cookie = _serializer(secret_key, "massicot-session").dumps(row.id)
    return OpenedSession(cookie_value=cookie, csrf_token=row.csrf_token, expires_at=row.expires_at)


def session_id_from_cookie(cookie_value: str | None, secret_key: str) -> str | None:
    if not cookie_value:
        return None
    try:
        return _serializer(secret_key, "massicot-session").loads(
            cookie_value, max_age=int(SESSION_LIFETIME.total_seconds())
        )
    except BadSignature:
        return None


def has_signed_login(cookie_header: str | None, secret_key: str) -> bool:
    """Whether a Cookie header holds a session cookie signed by this installation (no database read:
    the cheap first check before a request's body is read; the login itself is read later)."""
    from starlette.requests import cookie_parser  # the parser requests' cookies are read with

    if not cookie_header or SESSION_COOKIE not in cookie_header:
        return False
    return session_id_from_cookie(cookie_parser(cookie_header).get(SESSION_COOKIE), secret_key) is not None


_LOGIN = (
    select(User, LoginSession)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.id == bindparam("session_id"))
)


def load_session(session: Session, session_id: str) -> tuple[User, LoginSession] | None:
    """The active user behind a session id, or None if unknown, expired or disabled."""
    row = session.execute(_LOGIN, {"session_id": session_id}).first()
    if row is None:
        return None
    user, login = row
    if not user.active or login.expires_at <= datetime.now(UTC):
        return None
    return user, login


def close_session(session: Session, session_id: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.id == session_id))


def close_all_sessions(session: Session, user_id: int) -> int:
    """After a password reset or when an account is disabled. Returns how many were open."""
    result = session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    return result.rowcount or 0


def close_other_sessions(session: Session, user_id: int, keep_login_id: str) -> int:
    """After a person changes his own password: every login of the account but this one ends."""
    result = session.execute(
        delete(LoginSession).where(LoginSession.user_id == user_id, LoginSession.id != keep_login_id)
    )
    return result.rowcount or 0


# --- logins read for a request -------------------------------------------------------------

# Every request reads its login from the database (one indexed query): a logout, a password
# change or a disabled account ends the login in every server process at once. (A cache per
# process, once kept here, let a copied cookie work for seconds after logout in the others.)


@dataclass(frozen=True)
class KnownLogin:
    user: User  # detached: each request attaches it (Session.merge, load=False)
    login_id: str
    csrf_token: str
    expires_at: datetime


def known_login(user: User, login: LoginSession) -> KnownLogin:
    return KnownLogin(user, login.id, login.csrf_token, login.expires_at)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


# --- set-password links ----------------------------------------------------------------------

SET_PASSWORD_MAX_AGE = 7 * 24 * 3600


def set_password_token(user: User, secret_key: str) -> str:
    """A link token that works once: it is bound to the current password hash, which changes."""
    return _serializer(secret_key, "massicot-set-password").dumps(
        {"u": user.id, "h": _hash_fingerprint(user.password_hash, secret_key)}
    )


def set_password_token_expiry(token: str, secret_key: str) -> datetime:
    """When a token from `set_password_token` stops working: its signing time (whole seconds, as the
    token keeps it) plus the maximum age `user_for_set_password_token` accepts."""
    _, signed_at = _serializer(secret_key, "massicot-set-password").loads(token, return_timestamp=True)
    return signed_at + timedelta(seconds=SET_PASSWORD_MAX_AGE)


def user_for_set_password_token(session: Session, token: str, secret_key: str) -> User | None:
    try:
        data = _serializer(secret_key, "massicot-set-password").loads(token, max_age=SET_PASSWORD_MAX_AGE)
    except BadSignature:
        return None
    user = session.get(User, data.get("u"))
    if user is None or not user.active or data.get("h") != _hash_fingerprint(user.password_hash, secret_key):
        return None
    return user


def _hash_fingerprint(password_hash: str | None, secret_key: str) -> str:
    """What binds a link to the password hash it was made for, without showing any of the hash:
    a token is signed, not encrypted, and its holder could read a piece of the hash in it."""
    digest = hmac.new(secret_key.encode(), (password_hash or "none").encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Upgrades an outdated hash."""
    # Logins are e-mail addresses: accept them in any case.
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user
