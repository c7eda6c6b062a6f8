"""The exam office's dispatch page: one button per paper."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from correction_server.audit.log import Actor
from correction_server.deps import Db, OfficeUser
from correction_server.office.console import dispatch_from_page, dispatch_overview
from correction_server.web.rendering import render, request_language

router = APIRouter(include_in_schema=False)


@router.get("/office/dispatch", response_class=HTMLResponse)
def dispatch_page(request: Request, _user: OfficeUser, session: Db) -> Response:
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
    actor = Actor(_user.id, _user.role.value)
    run = dispatch_from_page(session, paper_id, seed, actor, request_language(request))
    if run is None:
        raise HTTPException(status_code=404, detail="No such paper.")
    context = dispatch_overview(session) | {"messages": run.messages, "problem": run.problem}
    return render(request, "dispatch.html", context, status_code=run.status)
