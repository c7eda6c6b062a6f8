"""Correction lots: which corrector marks which copies, as built by the dispatch."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from correction_server.db import Base, UtcDateTime


class AssignmentState(enum.StrEnum):
    ASSIGNED = "assigned"
    # Taken away from this lot by the coordinator (reassignment); kept so payment counts and the
    # audit trail still see who held it.
    WITHDRAWN = "withdrawn"


class CorrectionLot(Base):
    """A batch of copies of one paper handed to one corrector, with its bordereau (slip).

    One dispatch run creates at most one lot per corrector; a later run (copies that arrived
    late) creates new lots and never touches the old ones. `seed` is the run's seed, so the run
    can be replayed exactly.
    """

    __tablename__ = "correction_lot"
    __table_args__ = (UniqueConstraint("paper_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    corrector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    # Lot number within the paper, printed on the slip ("U3 – lot 7").
    number: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    copies: Mapped[list[LotCopy]] = relationship(
        back_populates="lot", order_by="LotCopy.position", cascade="all, delete-orphan"
    )


class LotCopy(Base):
    """One copy in one lot. A copy is in at most one lot: dispatch never gives it twice."""

    __tablename__ = "lot_copy"
    __table_args__ = (UniqueConstraint("lot_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("correction_lot.id"), index=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), unique=True)
    # Order in the lot = order on the slip: copy ids increasing.
    position: Mapped[int] = mapped_column(Integer)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    state: Mapped[AssignmentState] = mapped_column(
        Enum(AssignmentState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=AssignmentState.ASSIGNED,
    )
    lot: Mapped[CorrectionLot] = relationship(back_populates="copies")
