"""Correction lots as people read them: a lot's slip (bordereau), lot summaries with how many
copies are marked, and the lots on the correctors' and coordinators' home pages.

Read only: the lots are made by `dispatch.planning`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.models.exam import ExamSession, Paper
from correction_server.models.scans import Page
from massicot_core.errors import UserError


@dataclass(frozen=True)
class Slip:
    """Bordereau de notation: the copy numbers of a lot in increasing order."""

    lot_id: int
    paper_code: str
    paper_title: str
    lot_number: int
    corrector_name: str
    copy_ids: list[str]
    # Pages received per copy, in the order of copy_ids: a printed slip lets the corrector check
    # that he saw every page.
    page_counts: tuple[int, ...] = ()
    session_name: str = ""

    @property
    def total_pages(self) -> int:
        return sum(self.page_counts)


def lot_slip(session: Session, lot_id: int) -> Slip:
    lot = session.get(CorrectionLot, lot_id)
    if lot is None:
        raise UserError(f"There is no correction lot #{lot_id}.")
    paper = session.get(Paper, lot.paper_id)
    corrector = session.get(User, lot.corrector_id)
    ids = sorted(
        session.scalars(
            select(LotCopy.copy_id)
            .where(LotCopy.lot_id == lot_id)
            .where(LotCopy.state == AssignmentState.ASSIGNED)
        )
    )
    pages = dict(
        session.execute(
            select(Page.copy_id, func.count(Page.id))
            .join(LotCopy, LotCopy.copy_id == Page.copy_id)
            .where(LotCopy.lot_id == lot_id, LotCopy.state == AssignmentState.ASSIGNED)
            .group_by(Page.copy_id)
        ).all()
    )
    exam = session.get(ExamSession, paper.session_id)
    return Slip(
        lot.id,
        paper.code,
        paper.title,
        lot.number,
        corrector.display_name or corrector.username,
        ids,
        tuple(pages.get(copy_id, 0) for copy_id in ids),
        exam.name if exam else "",
    )


def slip_csv(slip: Slip) -> str:
    """One line per copy. Outside tools read these columns by name and place: new columns only
    ever go at the end (`pages`: pages received). No totals line, unlike the PDF: a reader that
    takes every line for a copy would count it as one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["paper", "lot", "corrector", "position", "copy_id", "mark", "pages"])
    counts = slip.page_counts or tuple(0 for _ in slip.copy_ids)
    for position, (copy_id, pages) in enumerate(zip(slip.copy_ids, counts, strict=True), start=1):
        writer.writerow([slip.paper_code, slip.lot_number, slip.corrector_name, position, copy_id, "", pages])
    return out.getvalue()


@dataclass(frozen=True)
class LotSummary:
    lot_id: int
    number: int
    paper_id: int
    paper_code: str
    corrector_id: int
    corrector_name: str
    copies: int
    marked: int


def lot_summaries(
    session: Session,
    *,
    corrector_id: int | None = None,
    paper_ids: set[int] | None = None,
    lot_id: int | None = None,
) -> list[LotSummary]:
    """Lots with their size and how many copies are marked, filtered by corrector, papers or lot."""
    query = (
        select(
            CorrectionLot.id,
            CorrectionLot.number,
            Paper.id,
            Paper.code,
            User.id,
            func.coalesce(func.nullif(User.display_name, ""), User.username),
            func.count(LotCopy.id),
        )
        .join(Paper, Paper.id == CorrectionLot.paper_id)
        .join(User, User.id == CorrectionLot.corrector_id)
        .outerjoin(
            LotCopy, (LotCopy.lot_id == CorrectionLot.id) & (LotCopy.state == AssignmentState.ASSIGNED)
        )
        .group_by(CorrectionLot.id, CorrectionLot.number, Paper.id, Paper.code, User.id)
        .order_by(Paper.code, CorrectionLot.number)
    )
    if corrector_id is not None:
        query = query.where(CorrectionLot.corrector_id == corrector_id)
    if paper_ids is not None:
        query = query.where(CorrectionLot.paper_id.in_(paper_ids or {-1}))
    if lot_id is not None:
        query = query.where(CorrectionLot.id == lot_id)
    rows = session.execute(query).all()
    marked = marked_counts(session, [r[0] for r in rows])
    return [LotSummary(*row, marked=marked.get(row[0], 0)) for row in rows]


def marked_counts(session: Session, lot_ids: list[int]) -> dict[int, int]:
    """Copies counted as marked per lot (the marking tables say what "marked" means)."""
    if not lot_ids:
        return {}
    try:
        from correction_server.models.marking import Marking, MarkingStatus
    except ImportError:  # marking tables not installed in this build
        return {}
    return dict(
        session.execute(
            select(LotCopy.lot_id, func.count(Marking.id))
            .join(Marking, Marking.copy_id == LotCopy.copy_id)
            .where(LotCopy.lot_id.in_(lot_ids))
            .where(LotCopy.state == AssignmentState.ASSIGNED)
            .where(Marking.status == MarkingStatus.MARKED)
            .group_by(LotCopy.lot_id)
        ).all()
    )


def lot_summary(session: Session, lot_id: int) -> LotSummary:
    """One lot's summary (the lot exists: its page checked it can be seen)."""
    (summary,) = lot_summaries(session, lot_id=lot_id)
    return summary


def corrector_home(session: Session, corrector_id: int, paper_ids: set[int]) -> dict[str, object]:
    """A corrector's lots, and the papers he is assigned to (`paper_ids`) or holds a lot of."""
    lots = lot_summaries(session, corrector_id=corrector_id)
    paper_ids = paper_ids | {lot.paper_id for lot in lots}
    papers = list(session.scalars(select(Paper).where(Paper.id.in_(paper_ids)).order_by(Paper.code)))
    return {"lots": lots, "papers": papers}


def coordinator_home(session: Session, paper_ids: set[int]) -> dict[str, object]:
    """A coordinator's papers, their correctors with capacities, and their lots — no candidate identity."""
    papers = list(session.scalars(select(Paper).where(Paper.id.in_(paper_ids or {-1})).order_by(Paper.code)))
    correctors: dict[int, list[dict[str, object]]] = {p.id: [] for p in papers}
    rows = session.execute(
        select(CorrectorPaper.paper_id, User.display_name, User.username, CorrectorPaper.capacity)
        .join(User, User.id == CorrectorPaper.user_id)
        .where(CorrectorPaper.paper_id.in_(paper_ids or {-1}))
        .where(User.role == Role.CORRECTOR)
        .order_by(User.display_name, User.username)
    ).all()
    for paper_id, display, username, capacity in rows:
        correctors[paper_id].append({"name": display or username, "capacity": capacity})
    lots_by_paper: dict[int, list] = {p.id: [] for p in papers}
    for lot in lot_summaries(session, paper_ids=paper_ids):
        lots_by_paper[lot.paper_id].append(lot)
    return {"papers": papers, "correctors": correctors, "lots_by_paper": lots_by_paper}
