"""People who use the server and what they may do."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from correction_server.db import Base, UtcDateTime


class Role(enum.StrEnum):
    OFFICE = "office"
    CENTRE = "centre"
    CORRECTOR = "corrector"
    COORDINATOR = "coordinator"
    # A candidate reading his own results and copies (correction_server.candidate_space).
    CANDIDATE = "candidate"


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # A centre account pushes for its own centre only; a centre token is stored hashed.
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"))
    token_hash: Mapped[str | None] = mapped_column(String(200))
    # Where a corrector teaches: he must never mark that établissement's candidates.
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the office resets the password (a one-time password was handed over): the person
    # must choose his own before doing anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The last time the person logged in (None: never, which the office looks for).
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    papers: Mapped[list[CorrectorPaper]] = relationship(back_populates="user")


class CorrectorPaper(Base):
    """A corrector (or coordinator) assigned to a paper, with his declared capacity in copies."""

    __tablename__ = "corrector_paper"
    __table_args__ = (UniqueConstraint("user_id", "paper_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    user: Mapped[User] = relationship(back_populates="papers")
