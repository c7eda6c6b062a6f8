"""The exam office's dispatch page: one button per paper."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from correction_server.audit.log import Actor
from correction_server.deps import Db, OfficeUser, Store
from correction_server.office.console import dispatch_from_page, dispatch_overview
from correction_server.office.room_reports import room_document, room_report
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


@router.get("/office/scan-lots/{seal}/room-report", response_class=HTMLResponse)
def room_report_page(request: Request, seal: str, _user: OfficeUser, session: Db) -> Response:
    return render(request, "office_room_report.html", {"found": room_report(session, seal)})


@router.get("/office/scan-lots/{seal}/room-report/{sha256}")
def room_report_sheet(seal: str, sha256: str, _user: OfficeUser, session: Db, store: Store) -> Response:
    document = room_document(session, seal, sha256)
    if not store.has(document.sha256):
        raise HTTPException(status_code=404, detail="This sheet has not arrived on the server yet.")
    with store.open(document.sha256) as handle:
        data = handle.read()
    # It names candidates: never cached by a shared cache, never kept by the browser.
    return Response(data, media_type=document.media_type, headers={"Cache-Control": "no-store"})
