"""What the server tells a station about its lot and its images: all it may ever read back."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.auth.tokens import Principal
from correction_server.models import Copy, Page, ScanLot, ScanLotRepush


@dataclass(frozen=True)
class LotState:
    """What the server says about one lot: all the station may ever read back."""

    seal: str
    state: str  # "receiving" | "received" | "already received" | "unknown"
    message: str
    missing: list[str] = field(default_factory=list)
    copies: int = 0
    pages: int = 0
    max_page_bytes: int = 0


@dataclass(frozen=True)
class ChunkReceipt:
    offset: int
    complete: bool


def received_state(session: Session, seal: str, principal: Principal | None = None) -> LotState | None:
    """The lot as received, or None when no lot has this seal (or it is another centre's)."""
    lot = session.scalar(select(ScanLot).where(ScanLot.seal_sha256 == seal))
    if lot is None:
        # A lot pushed again after rescans (intake.repush) is known by its new seal too.
        lot = session.scalar(
            select(ScanLot)
            .join(ScanLotRepush, ScanLotRepush.scan_lot_id == ScanLot.id)
            .where(ScanLotRepush.seal_sha256 == seal)
        )
    if lot is None:
        return None
    if principal is not None and lot.centre_id != principal.centre_id:
        return None  # another centre's lot: not even its existence is told
    copies = session.scalar(select(func.count()).select_from(Copy).where(Copy.scan_lot_id == lot.id)) or 0
    pages = (
        session.scalar(
            select(func.count())
            .select_from(Page)
            .join(Copy, Copy.id == Page.copy_id)
            .where(Copy.scan_lot_id == lot.id)
        )
        or 0
    )
    return LotState(
        seal=seal,
        state="already received",
        message=f"already received on {lot.received_at:%Y-%m-%d %H:%M} UTC; nothing changed",
        copies=copies,
        pages=pages,
    )
