"""The candidate's own space: his account, the activation codes of his access letters, and the
review requests he sends (correction_server.candidate_space)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


class CandidateAccount(Base):
    """The login (app_user, role candidate) of one candidate. Kept beside the account rather than
    on it: a staff query on app_user never reaches a candidate's identity by accident."""

    __tablename__ = "candidate_account"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), unique=True)
    activated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ActivationCode(Base):
    """One code printed on an access letter: only its SHA-256 is kept (80 random bits: nothing
    to guess from the hash). Used once; a newer letter revokes it; it expires."""

    __tablename__ = "activation_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    issued_by: Mapped[str] = mapped_column(String(200), default="")
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class ReviewRequest(Base):
    """A candidate asks the office to check a material error on his copy (erreur de report de note)."""

    __tablename__ = "review_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"))
    message: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[RequestStatus] = mapped_column(
        Enum(RequestStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=RequestStatus.OPEN,
    )
    answer: Mapped[str] = mapped_column(Text, default="")
    # The mark out of 20 after the correction, when the office corrected one (kept as a jury decision too).
    corrected_mark_20: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    answered_by_name: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
