"""The office console's dispatch page: what it shows of each paper, and what a run of the
dispatch from it says.

Read models and outcomes only; the page (`office.web`) asks and renders. The lots themselves are
made by `dispatch.planning`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server import i18n
from correction_server.audit.log import Actor
from correction_server.dispatch.lots import lot_summaries
from correction_server.dispatch.planning import DispatchImpossible, dispatch_paper, held_back_text
from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.dispatch import LotCopy
from correction_server.models.exam import Paper
from correction_server.models.scans import Copy
from massicot_core.errors import UserError


def dispatch_overview(session: Session) -> dict[str, object]:
    """Every paper with its copies received and dispatched, its correctors and their capacity,
    and its lots."""
    copies = dict(session.execute(select(Copy.paper_id, func.count()).group_by(Copy.paper_id)).all())
    dispatched = dict(
        session.execute(
            select(Copy.paper_id, func.count())
            .join(LotCopy, LotCopy.copy_id == Copy.id)
            .group_by(Copy.paper_id)
        ).all()
    )
    seats = {
        pid: (n, cap or 0)
        for pid, n, cap in session.execute(
            select(CorrectorPaper.paper_id, func.count(), func.sum(CorrectorPaper.capacity))
            .join(User, User.id == CorrectorPaper.user_id)
            .where(User.role == Role.CORRECTOR)
            .group_by(CorrectorPaper.paper_id)
        ).all()
    }
    papers = []
    for paper in session.scalars(select(Paper).order_by(Paper.code)):
        n, cap = seats.get(paper.id, (0, 0))
        papers.append(
            {
                "paper_id": paper.id,
                "code": paper.code,
                "title": paper.title,
                "copies": copies.get(paper.id, 0),
                "dispatched": dispatched.get(paper.id, 0),
                "correctors": n,
                "capacity": cap,
            }
        )
    lots_by_paper: dict[int, list] = {p["paper_id"]: [] for p in papers}
    for lot in lot_summaries(session):
        lots_by_paper.setdefault(lot.paper_id, []).append(lot)
    return {"papers": papers, "lots_by_paper": lots_by_paper}


@dataclass(frozen=True)
class DispatchRun:
    """What the page says after a run: its messages, the reasons it was not possible, its status."""

    messages: list[dict[str, str]] = field(default_factory=list)
    problem: list[str] | None = None
    status: int = 200


def dispatch_from_page(
    session: Session, paper_id: int, seed: str, actor: Actor, lang: str
) -> DispatchRun | None:
    """Dispatch the paper's waiting copies with the seed typed in the form (empty: a random
    one), in the reader's language; None when there is no such paper."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        return None
    try:
        chosen = int(seed) if seed.strip() else None
        outcome = dispatch_paper(session, paper, chosen, actor=actor)
    except ValueError:
        return DispatchRun([{"kind": "error", "text": "The seed must be a whole number."}], status=400)
    except DispatchImpossible as exc:
        return DispatchRun(problem=exc.reasons_in(lang), status=409)
    except UserError as exc:
        return DispatchRun([{"kind": "error", "text": str(exc)}], status=409)
    if outcome.lots:
        text = i18n.translate(
            lang,
            "dispatch.done",
            copies=outcome.copies_dispatched,
            lots=len(outcome.lots),
            seed=outcome.seed,
        )
    else:
        text = i18n.translate(lang, "dispatch.nothing", paper=paper.code)
    messages = [{"kind": "ok", "text": text}]
    messages += [{"kind": "info", "text": note} for note in outcome.notes]
    if outcome.held_back:
        messages.append({"kind": "error", "text": held_back_text(outcome.held_back)})
    return DispatchRun(messages)
