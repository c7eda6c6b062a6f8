"""What coordination and the closing of a paper add to the marks, always beside them, never over them.

- Reassignment: a copy moved from one corrector's lot to another's (one row per copy moved),
  so who held it, and in what state, stays known after the move.
- SecondReading: a copy marked again by a second corrector who does not see the first mark;
  the coordinator compares and decides.
- JuryDecision: a mark changed by the jury, kept beside the corrector's original mark.
- Hold: the office holds a candidate's results and copy access during a fraud procedure.
- MissingDeclaration: the office states that a registered candidate's copy is missing (and why),
  which is what lets the jury export go ahead without it.
- ResultsPublication: when results of a paper were published (starts the consultation year).
- PurgeRecord: a copy whose pages were deleted after the legal year (its marks stay).

"by_name" fields keep who did it in words: a command run on the server has no user account.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Reassignment(Base):
    __tablename__ = "reassignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), index=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    from_lot_id: Mapped[int] = mapped_column(ForeignKey("correction_lot.id"))
    to_lot_id: Mapped[int] = mapped_column(ForeignKey("correction_lot.id"))
    from_corrector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    to_corrector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    # "todo" or "draft": a copy already marked is never moved (it stays its corrector's work).
    state_when_moved: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReadingStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the second corrector
    DONE = "done"  # second mark entered; waiting for the coordinator's decision
    DECIDED = "decided"  # the coordinator chose the mark


class ReadingChoice(enum.StrEnum):
    FIRST = "first"
    SECOND = "second"
    OTHER = "other"


class SecondReading(Base):
    __tablename__ = "second_reading"
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), index=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    first_corrector_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[ReadingStatus] = mapped_column(_enum(ReadingStatus), default=ReadingStatus.REQUESTED)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The second mark: question id (as text) -> points (as text), appreciation, totals.
    marks: Mapped[dict] = mapped_column(JSON, default=dict)
    appreciation: Mapped[str] = mapped_column(Text, default="")
    mark_20: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The first mark as it stood when the second one was entered (the gap is computed on it).
    first_mark_20: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    choice: Mapped[ReadingChoice | None] = mapped_column(_enum(ReadingChoice))
    decided_mark_20: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class JuryDecision(Base):
    """One change of a mark by the jury. Rows are only added: the latest one per copy counts."""

    __tablename__ = "jury_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    # The mark it replaces for the jury, as the export showed it ("12.5", "AB", "00").
    original: Mapped[str] = mapped_column(String(8))
    mark_20: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    # A jury only raises a mark; a lower one is a material error correction, naming who found it.
    material_error: Mapped[bool] = mapped_column(Boolean, default=False)
    material_error_by: Mapped[str] = mapped_column(String(200), default="")


class Hold(Base):
    """A fraud procedure: results and copy access held for the candidate until released."""

    __tablename__ = "hold"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    released_by_name: Mapped[str] = mapped_column(String(200), default="")
    release_reason: Mapped[str] = mapped_column(Text, default="")


class MissingDeclaration(Base):
    __tablename__ = "missing_declaration"
    __table_args__ = (UniqueConstraint("candidate_id", "paper_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ResultsPublication(Base):
    __tablename__ = "results_publication"
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), unique=True)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    by_name: Mapped[str] = mapped_column(String(200))


class PurgeRecord(Base):
    __tablename__ = "purge_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), unique=True)
    purged_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pages: Mapped[int] = mapped_column(Integer)
    images_deleted: Mapped[int] = mapped_column(Integer)
    by_name: Mapped[str] = mapped_column(String(200))
