"""Conflicts of interest beyond the corrector's own établissement (DOMAIN rule 23).

A corrector may teach in several établissements (`CorrectorEstablishment`, besides
`User.establishment_id`), and the office records explicit incompatibilities: a corrector and
one candidate (a professional and his trainee), or a corrector and a whole établissement.
Dispatch, reassignment and second reading honour all of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


class CorrectorEstablishment(Base):
    """Another établissement where a corrector teaches."""

    __tablename__ = "corrector_establishment"
    __table_args__ = (UniqueConstraint("user_id", "establishment_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))


class Incompatibility(Base):
    """The office's record: this corrector must never mark this candidate (or this établissement)."""

    __tablename__ = "incompatibility"
    __table_args__ = (
        CheckConstraint(
            "(candidate_id IS NULL) <> (establishment_id IS NULL)", name="one_candidate_or_establishment"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    corrector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
