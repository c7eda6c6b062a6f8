"""A corrector's flag on a copy, the office's decision, the rescan it may ask, page versions.

A flagged copy leaves its corrector's to-do (`Copy.flagged`, read with the copy on the hot
routes at no extra query) until every flag on it is decided. An unreadable or missing page
becomes a `RescanRequest` to the centre; the re-pushed lot replaces only the pages the open
requests name, and the page row it replaces is kept as a `PageVersion` (so is the original of
a page the office masked). Page objects in the store are content-addressed and never deleted
by any of this: every version stays readable.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, Float, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class FlagKind(enum.StrEnum):
    IDENTIFYING_SIGN = "identifying_sign"  # signe distinctif: a name or mark outside the header
    UNREADABLE_PAGE = "unreadable_page"  # page illisible ou manquante
    FOREIGN_PAGE = "foreign_page"  # page d'une autre copie


class FlagState(enum.StrEnum):
    OPEN = "open"  # waiting for the office
    RESCAN = "rescan"  # the office asked the centre to rescan; closes when the new page arrives
    DECIDED = "decided"


class FlagDecision(enum.StrEnum):
    MASK = "mask"  # identifying sign: a zone masked on the page's image
    NOTE = "note"  # recorded, nothing changed on the copy
    MOVE = "move"  # page of another copy: moved to that copy
    RESCAN = "rescan"  # unreadable or missing page: the centre scans it again
    RESCANNED = "rescanned"  # the new page arrived


class CopyFlag(Base):
    __tablename__ = "copy_flag"
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), index=True)
    # The page concerned (its number in the copy); None when the page is missing altogether.
    page_number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[FlagKind] = mapped_column(_enum(FlagKind))
    note: Mapped[str] = mapped_column(Text, default="")
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    state: Mapped[FlagState] = mapped_column(_enum(FlagState), default=FlagState.OPEN, index=True)
    decision: Mapped[FlagDecision | None] = mapped_column(_enum(FlagDecision))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RescanState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class RescanRequest(Base):
    """A page the centre must scan again: listed to the station of the centre, for its lot."""

    __tablename__ = "rescan_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("copy_flag.id"), index=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), index=True)
    page_number: Mapped[int] = mapped_column(Integer)
    scan_lot_id: Mapped[int] = mapped_column(ForeignKey("scan_lot.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[RescanState] = mapped_column(_enum(RescanState), default=RescanState.OPEN, index=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The seal of the re-pushed lot that brought the new page.
    done_seal: Mapped[str | None] = mapped_column(String(64))


class PageVersion(Base):
    """A page row as it was before a rescan, a mask or a move replaced it: never deleted."""

    __tablename__ = "page_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id"), index=True)
    copy_id: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(32))
    rotation: Mapped[int] = mapped_column(Integer)
    skew_degrees: Mapped[float] = mapped_column(Float)
    blank: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(16))  # "rescan", "mask" or "move"
    replaced_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("copy_flag.id"))


class ScanLotRepush(Base):
    """A lot re-pushed after rescans: its new seal, and the received lot whose pages it replaced."""

    __tablename__ = "scan_lot_repush"
    seal_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    scan_lot_id: Mapped[int] = mapped_column(ForeignKey("scan_lot.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    pages_replaced: Mapped[int] = mapped_column(Integer, default=0)
