"""A paper's marking progress: copies marked, in progress and not started, in all, per
corrector (his lots now) and per centre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from correction_server.coordination.people import display_name
from correction_server.models import (
    Centre,
    Copy,
    CorrectorPaper,
    Marking,
    MarkingStatus,
    Paper,
    Role,
    User,
)
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from massicot_core.errors import UserError
from massicot_core.snapshots import Snapshots, keep_when_costly

# The pages' progress, kept a few seconds per process for a national paper (it polls).
_SHOWN: Snapshots[Progress] = Snapshots()


@dataclass
class Counts:
    copies: int = 0
    marked: int = 0
    draft: int = 0

    @property
    def not_started(self) -> int:
        return self.copies - self.marked - self.draft

    @property
    def percent(self) -> int:
        return round(100 * self.marked / self.copies) if self.copies else 0

    def add(self, status: MarkingStatus | None, count: int = 1) -> None:
        self.copies += count
        if status == MarkingStatus.MARKED:
            self.marked += count
        elif status == MarkingStatus.DRAFT:
            self.draft += count


@dataclass
class CorrectorProgress:
    corrector_id: int
    name: str
    capacity: int
    counts: Counts
    lots: list[tuple[int, int]]  # (lot id, lot number)


@dataclass
class CentreProgress:
    uai: str
    name: str
    counts: Counts
    undispatched: int


@dataclass
class Progress:
    paper_id: int
    code: str
    title: str
    total: Counts
    undispatched: int
    correctors: list[CorrectorProgress]
    centres: list[CentreProgress]
    at: datetime


def paper_progress(session: Session, paper_id: int) -> Progress:
    """Copies marked / in progress / not started, per corrector (his lots now) and per centre."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise UserError(f"There is no paper #{paper_id}.")
    # Counted by the database, grouped: a national paper has half a million copies, and rows
    # brought back one per copy would make this block seconds long for every coordinator polling it.
    assigned = (LotCopy.copy_id == Copy.id) & (LotCopy.state == AssignmentState.ASSIGNED)
    by_centre_rows = session.execute(
        select(Copy.centre_id, Marking.status, LotCopy.id.is_(None), func.count())
        .outerjoin(LotCopy, assigned)
        .outerjoin(Marking, Marking.copy_id == Copy.id)
        .where(Copy.paper_id == paper_id)
        .group_by(Copy.centre_id, Marking.status, LotCopy.id.is_(None))
    ).all()
    by_corrector_rows = session.execute(
        select(CorrectionLot.corrector_id, Marking.status, func.count())
        .select_from(Copy)
        .join(LotCopy, assigned)
        .join(CorrectionLot, CorrectionLot.id == LotCopy.lot_id)
        .outerjoin(Marking, Marking.copy_id == Copy.id)
        .where(Copy.paper_id == paper_id)
        .group_by(CorrectionLot.corrector_id, Marking.status)
    ).all()
    seats = session.execute(
        select(User, CorrectorPaper.capacity)
        .join(CorrectorPaper, CorrectorPaper.user_id == User.id)
        .where(CorrectorPaper.paper_id == paper_id, User.role == Role.CORRECTOR)
    ).all()
    by_corrector = {u.id: CorrectorProgress(u.id, display_name(u), cap, Counts(), []) for u, cap in seats}
    for lot_id, number, corrector_id in session.execute(
        select(CorrectionLot.id, CorrectionLot.number, CorrectionLot.corrector_id)
        .where(CorrectionLot.paper_id == paper_id)
        .order_by(CorrectionLot.number)
    ):
        if corrector_id not in by_corrector:  # a former corrector of the paper still holding a lot
            user = session.get(User, corrector_id)
            by_corrector[corrector_id] = CorrectorProgress(corrector_id, display_name(user), 0, Counts(), [])
        by_corrector[corrector_id].lots.append((lot_id, number))
    centre_ids = {row[0] for row in by_centre_rows}
    centres = {c.id: c for c in session.scalars(select(Centre).where(Centre.id.in_(centre_ids)))}
    by_centre: dict[int, CentreProgress] = {}
    total, undispatched = Counts(), 0
    for centre_id, status, not_dispatched, count in by_centre_rows:
        centre = by_centre.setdefault(
            centre_id, CentreProgress(centres[centre_id].uai, centres[centre_id].name, Counts(), 0)
        )
        centre.counts.add(status, count)
        total.add(status, count)
        if not_dispatched:
            centre.undispatched += count
            undispatched += count
    for corrector_id, status, count in by_corrector_rows:
        by_corrector[corrector_id].counts.add(status, count)  # his lot of this paper is listed above
    return Progress(
        paper_id=paper.id,
        code=paper.code,
        title=paper.title,
        total=total,
        undispatched=undispatched,
        correctors=sorted(by_corrector.values(), key=lambda c: c.name.lower()),
        centres=sorted(by_centre.values(), key=lambda c: c.uai),
        at=datetime.now(UTC),
    )


def shown_progress(session: Session, paper_id: int) -> Progress:
    """The progress as the coordinator's pages show it: computed afresh for a paper of usual
    size; for a national one, a snapshot (dated `at`) at most some seconds old per process."""
    return _SHOWN.get(
        paper_id,
        lambda: paper_progress(session, paper_id),
        lambda progress, took: keep_when_costly(progress.total.copies, took),
        refresh=lambda: _progress_apart(session.get_bind(), paper_id),
    )


def _progress_apart(bind: Engine | Connection, paper_id: int) -> Progress:
    with Session(bind=bind) as session:
        return paper_progress(session, paper_id)
