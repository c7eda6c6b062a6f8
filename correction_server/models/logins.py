"""Browser login sessions, kept on the server so that logging out really ends them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


class LoginSession(Base):
    """One logged-in browser. The cookie carries `id`, signed; the row carries the CSRF token.

    Deleting the row (logout, account disabled) ends the session even if the cookie was copied.
    """

    __tablename__ = "login_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LoginFailure(Base):
    """One login attempt that has not succeeded, for the login rate limit (correction_server.login_limit).

    Kept in the database, not in a server process: every process of `massicot serve` sees the
    same count, and a restart forgets nothing. Rows older than the window are deleted as new
    attempts arrive, so the table holds at most a window's worth of failures.
    """

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_username_client_ip", "username", "client_ip", "at"),
        Index("ix_login_failure_client_ip", "client_ip", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120))  # as typed: stripped, lower-cased, cut to 120
    client_ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
