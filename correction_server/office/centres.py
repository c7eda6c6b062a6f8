"""The centres of the session as the office follows them: their candidates and papers, their
station's token, the lots they pushed, and the rolls to hand them (per centre and room).

Read models and small changes (a centre's contact); the token itself is `auth.tokens`' (the same
as `massicot office centre-token`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from correction_server.auth.tokens import centre_username
from correction_server.models import Candidate, Centre, Copy, Page, Paper, RollEntry, ScanLot, User


@dataclass(frozen=True)
class CentreLine:
    centre_id: int
    uai: str
    name: str
    contact: str
    candidates: int
    papers: list[str]
    lots: int
    last_push: datetime | None
    has_token: bool


@dataclass(frozen=True)
class PushLine:
    seal: str
    paper: str
    received_at: datetime
    copies: int
    pages: int
    station: str


def centres_overview(session: Session) -> list[CentreLine]:
    candidates = dict(
        session.execute(select(Candidate.centre_id, func.count()).group_by(Candidate.centre_id)).all()
    )
    papers: dict[int, list[str]] = {}
    for centre_id, code in session.execute(
        select(Candidate.centre_id, Paper.code)
        .join(RollEntry, RollEntry.candidate_id == Candidate.id)
        .join(Paper, Paper.id == RollEntry.paper_id)
        .distinct()
    ):
        papers.setdefault(centre_id, []).append(code)
    lots = {
        cid: (n, last)
        for cid, n, last in session.execute(
            select(ScanLot.centre_id, func.count(), func.max(ScanLot.received_at)).group_by(ScanLot.centre_id)
        )
    }
    tokens = {
        name
        for name in session.scalars(
            select(User.username).where(User.token_hash.is_not(None), User.active.is_(True))
        )
    }
    out = []
    for centre in session.scalars(select(Centre).order_by(Centre.uai)):
        n, last = lots.get(centre.id, (0, None))
        out.append(
            CentreLine(
                centre.id,
                centre.uai,
                centre.name,
                centre.contact,
                candidates.get(centre.id, 0),
                sorted(set(papers.get(centre.id, []))),
                n,
                last,
                centre_username(centre.uai) in tokens,
            )
        )
    return out


def centre_pushes(session: Session, centre_id: int) -> list[PushLine]:
    """The lots a centre's station pushed, newest first, with their copies and pages."""
    centre = session.get(Centre, centre_id)
    station = centre_username(centre.uai) if centre else ""
    copies = (
        select(
            Copy.scan_lot_id,
            func.count(distinct(Copy.id)).label("copies"),
            func.count(Page.id).label("pages"),
        )
        .outerjoin(Page, Page.copy_id == Copy.id)
        .group_by(Copy.scan_lot_id)
        .subquery()
    )
    rows = session.execute(
        select(ScanLot.seal_sha256, Paper.code, ScanLot.received_at, copies.c.copies, copies.c.pages)
        .join(Paper, Paper.id == ScanLot.paper_id)
        .outerjoin(copies, copies.c.scan_lot_id == ScanLot.id)
        .where(ScanLot.centre_id == centre_id)
        .order_by(ScanLot.received_at.desc(), ScanLot.id.desc())
    ).all()
    return [PushLine(r[0], r[1], r[2], r[3] or 0, r[4] or 0, station) for r in rows]


def set_contact(session: Session, centre_id: int, contact: str) -> Centre | None:
    centre = session.get(Centre, centre_id)
    if centre is not None:
        centre.contact = contact.strip()[:200]
    return centre


def rooms_of(session: Session, centre_id: int, paper_id: int) -> list[str]:
    """The rooms the import gave the centre's candidates of a paper ('' for those without one)."""
    return sorted(
        session.scalars(
            select(func.coalesce(Candidate.room, ""))
            .join(RollEntry, RollEntry.candidate_id == Candidate.id)
            .where(Candidate.centre_id == centre_id, RollEntry.paper_id == paper_id)
            .distinct()
        )
    )
