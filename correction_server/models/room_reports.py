"""The room report (procès-verbal de salle) a centre sealed into a lot: office only (it names people)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base


class RoomReportRecord(Base):
    """One lot's room report, as sealed (massicot_core.contract.RoomReport as JSON); its scanned
    sheets are in the page store by their SHA-256."""

    __tablename__ = "room_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_lot_id: Mapped[int] = mapped_column(ForeignKey("scan_lot.id"), unique=True)
    report_json: Mapped[str] = mapped_column(Text)
