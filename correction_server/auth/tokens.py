"""Bearer tokens for machine clients: each exam centre's scan station has its own.

The office issues a token (`massicot office centre-token UAI`); it is shown once and
only its SHA-256 is kept. A plain SHA-256 is enough here (no slow password hash):
the token is 256 random bits, so there is nothing to guess from its hash.
Issuing a new token for a centre replaces the old one, which stops working within
seconds (servers keep a verified token for `TokenCache.ttl` seconds).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.models import Centre, Role, User
from correction_server.models.exam import check_uai

TOKEN_PREFIX = "mct_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: what a route needs to decide, without holding a database session."""

    user_id: int
    username: str
    role: Role
    centre_id: int | None
    centre_uai: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def centre_username(uai: str) -> str:
    return f"centre-{uai}"


def issue_centre_token(session: Session, uai: str, name: str | None = None) -> str:
    """Create the centre (and its station account) if needed; return a fresh token."""
    uai = uai.strip().upper()
    try:
        check_uai(uai)
    except ValueError as exc:
        from massicot_core.errors import UserError

        raise UserError(str(exc)) from None
    centre = session.scalar(select(Centre).where(Centre.uai == uai))
    if centre is None:
        centre = Centre(uai=uai, name=name or "")
        session.add(centre)
        session.flush()
    elif name:
        centre.name = name
    user = session.scalar(select(User).where(User.username == centre_username(uai)))
    if user is None:
        user = User(
            username=centre_username(uai),
            display_name=f"Scan station of {name or uai}",
            role=Role.CENTRE,
            centre_id=centre.id,
        )
        session.add(user)
    user.role = Role.CENTRE
    user.centre_id = centre.id
    user.active = True
    token = new_token()
    user.token_hash = hash_token(token)
    session.flush()
    return token


def issue_user_token(session: Session, username: str) -> str:
    """A token for an existing account of any role (it still may do only what its role allows)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        from massicot_core.errors import UserError

        raise UserError(f"no account named {username!r}")
    token = new_token()
    user.token_hash = hash_token(token)
    session.flush()
    return token


def authenticate(session: Session, token: str) -> Principal | None:
    if not token:
        return None
    row = session.execute(
        select(User.id, User.username, User.role, User.centre_id, Centre.uai)
        .outerjoin(Centre, Centre.id == User.centre_id)
        .where(User.token_hash == hash_token(token), User.active.is_(True))
    ).first()
    if row is None:
        return None
    return Principal(
        user_id=row.id,
        username=row.username,
        role=Role(row.role),
        centre_id=row.centre_id,
        centre_uai=row.uai,
    )


class TokenCache:
    """Recently verified tokens, so a push of 2,000 images does not query the account 2,000 times.

    Only successes are kept, for `ttl` seconds: a replaced or deactivated token stops working
    within that delay.
    """

    def __init__(self, ttl: float = 5.0, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        key = hash_token(token)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[hash_token(token)] = (time.monotonic() + self.ttl, principal)
