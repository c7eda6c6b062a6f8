"""Pushes in progress: a sealed lot announced by a scan station whose images are still arriving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


class PushUpload(Base):
    """The manifest and identity file of a lot being received, until its commit.

    Deleted in the same transaction that creates the scan lot, so a lot is either
    here (receiving) or in `scan_lot` (received), never both. The identity file is
    office-only data: it is kept here only until the commit moves it into
    `identity_link`.

    `last_activity_at` is moved forward by the station's requests (`correction_server.ingest`),
    so `massicot office purge-uploads` can tell a push abandoned days ago from one under way.
    """

    __tablename__ = "push_upload"
    seal_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"))
    manifest_json: Mapped[str] = mapped_column(Text)
    identity_json: Mapped[str] = mapped_column(Text)
    # A re-push after rescans (correction_server.intake.repush): the received lot it updates.
    replaces_scan_lot_id: Mapped[int | None] = mapped_column(ForeignKey("scan_lot.id"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now(), index=True)
