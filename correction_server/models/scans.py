"""What arrives from the scan stations: sealed lots, copies, page images, identity links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from correction_server.db import Base, UtcDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class ScanLot(Base):
    """A sealed lot as received from one centre for one paper (identified by its seal)."""

    __tablename__ = "scan_lot"
    id: Mapped[int] = mapped_column(primary_key=True)
    seal_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    copies: Mapped[list[Copy]] = relationship(back_populates="scan_lot")


class CopyStatus(enum.StrEnum):
    OK = "ok"
    BLANK = "blank"
    ABSENT = "absent"
    INCOMPLETE = "incomplete"


class Copy(Base):
    """One candidate's booklet. Its id is the anonymity number: nothing else identifies it."""

    __tablename__ = "copy"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    scan_lot_id: Mapped[int | None] = mapped_column(ForeignKey("scan_lot.id"), index=True)
    status: Mapped[CopyStatus] = mapped_column(_enum(CopyStatus), default=CopyStatus.OK)
    # A corrector's flag waits for the office's decision (correction_server.models.flags): the
    # copy is out of his to-do meanwhile. On the copy row so the hot routes read it for free.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    scan_lot: Mapped[ScanLot | None] = relationship(back_populates="copies")
    pages: Mapped[list[Page]] = relationship(
        back_populates="copy", order_by="Page.position", cascade="all, delete-orphan"
    )


class Page(Base):
    """One corrector-facing (masked) page image of a copy, stored by its SHA-256."""

    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("copy_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"))
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)  # None for an annex without a code
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(32), default="image/jpeg")
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    skew_degrees: Mapped[float] = mapped_column(Float, default=0.0)
    blank: Mapped[bool] = mapped_column(Boolean, default=False)
    # Nothing written in its answer zone (False), something (True), not measured (None: an annex,
    # a lot sealed before stations measured it). Shown to the corrector as "page left blank".
    written: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    booklet: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    copy: Mapped[Copy] = relationship(back_populates="pages")


class IdentityLink(Base):
    """Copy → candidate. Read by the office role only; never joined into corrector queries.

    Kept out of the copy table on purpose: a corrector-facing query on `copy` cannot reach the
    candidate by accident. A candidate has one copy per paper he sits, so several links.
    """

    __tablename__ = "identity_link"
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
