"""Browser login sessions, kept on the server so that logging out really ends them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
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
