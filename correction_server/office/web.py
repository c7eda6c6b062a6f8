"""The exam office's dispatch page: one button per paper."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server import i18n
from correction_server.audit.log import Actor
from correction_server.deps import Db, OfficeUser
from correction_server.dispatch.planning import (
    DispatchImpossible,
    dispatch_paper,
    held_back_text,
    lot_summaries,
)
from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.dispatch import LotCopy
from correction_server.models.exam import Paper
from correction_server.models.scans import Copy
from correction_server.web.rendering import render, request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)


def dispatch_overview(session: Session) -> dict[str, object]:
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


@router.get("/office/dispatch", response_class=HTMLResponse)
def dispatch_page(
    request: Request, _user: OfficeUser, session: Db
) -> Response:
    return render(request, "dispatch.html", dispatch_overview(session))


@router.post("/office/dispatch/{paper_id}", response_class=HTMLResponse)
def run_dispatch(
    request: Request,
    paper_id: int,
    seed: str = Form(""),
    *,
    _user: OfficeUser,
    session: Db,
) -> Response:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise HTTPException(status_code=404, detail="No such paper.")
    lang = request_language(request)
    messages, problem, status = [], None, 200
    try:
        chosen = int(seed) if seed.strip() else None
        outcome = dispatch_paper(session, paper, chosen, actor=Actor(_user.id, _user.role.value))
    except ValueError:
        messages, status = [{"kind": "error", "text": "The seed must be a whole number."}], 400
    except DispatchImpossible as exc:
        problem, status = exc.reasons, 409
    except UserError as exc:
        messages, status = [{"kind": "error", "text": str(exc)}], 409
    else:
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
    context = dispatch_overview(session) | {"messages": messages, "problem": problem}
    return render(request, "dispatch.html", context, status_code=status)
