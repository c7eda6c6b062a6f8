"""The office's pages for the marking rules (thin routes over office.documents, office.flags,
office.incompatibilities). Office only.

    GET  /office/papers/{paper_id}/documents     the paper's subject and corrigé, the upload form
    POST /office/papers/{paper_id}/documents     upload one (multipart: kind, file) → back to the page
    GET  /office/flags                           the correctors' flags waiting, a decision form each
    POST /office/flags/{flag_id}                 decide (decision, note, zone, to_copy, page)
    GET  /office/incompatibilities               recorded incompatibilities, the forms to add one
    POST /office/incompatibilities               record one (corrector, candidate | establishment, reason)
    POST /office/incompatibilities/teaches       another établissement where a corrector teaches
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from correction_server import i18n
from correction_server.audit.actors import actor_of
from correction_server.auth.access import NOT_YOURS
from correction_server.coordination.people import display_name
from correction_server.deps import Db, OfficeUser, Store
from correction_server.models import Paper
from correction_server.office import documents, incompatibilities
from correction_server.office.flags import decide, waiting_flags
from correction_server.pages.zones import parse_zone
from correction_server.web.rendering import render, request_language
from massicot_core.errors import Refused, UserError

router = APIRouter(include_in_schema=False)


def _said(exc: UserError, lang: str) -> str:
    return exc.words(lang) if isinstance(exc, Refused) else str(exc)


def _paper(session, paper_id: int) -> Paper:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return paper


def _documents_page(request: Request, session, paper: Paper, messages=(), status: int = 200) -> Response:
    papers = list(session.scalars(select(Paper).order_by(Paper.code)))
    context = {
        "paper": paper,
        "papers": papers,
        "documents": documents.documents_of(session, paper.id),
        "messages": list(messages),
    }
    return render(request, "office_documents.html", context, status_code=status)


@router.get("/office/papers/{paper_id}/documents", response_class=HTMLResponse)
def documents_page(request: Request, paper_id: int, done: str = "", *, _user: OfficeUser, session: Db):
    paper = _paper(session, paper_id)
    messages = [{"kind": "ok", "text": done}] if done else []
    return _documents_page(request, session, paper, messages)


@router.post("/office/papers/{paper_id}/documents", response_class=HTMLResponse)
def upload_document(
    request: Request,
    paper_id: int,
    kind: str = Form(""),
    file: UploadFile | None = File(None),
    *,
    user: OfficeUser,
    session: Db,
    store: Store,
) -> Response:
    paper = _paper(session, paper_id)
    lang = request_language(request)
    try:
        chosen = documents.parse_kind(kind)
        if file is None:
            raise UserError("Choose the PDF file to upload.")
        data = file.file.read(documents.MAX_BYTES + 1)
        documents.upload(
            session, store, actor_of(user), display_name(user), paper.id, chosen, data, file.filename or ""
        )
    except UserError as exc:
        session.rollback()
        return _documents_page(request, session, paper, [{"kind": "error", "text": _said(exc, lang)}], 409)
    what = i18n.translate(lang, f"rules.docs.{chosen.value}")
    text = i18n.translate(lang, "rules.docs.done", what=what, name=file.filename or "")
    return RedirectResponse(f"/office/papers/{paper.id}/documents?done={quote(text)}", status_code=303)


def _flags_page(request: Request, session, messages=(), status: int = 200) -> Response:
    return render(
        request,
        "office_flags.html",
        {"flags": waiting_flags(session), "messages": list(messages)},
        status_code=status,
    )


@router.get("/office/flags", response_class=HTMLResponse)
def flags_page(request: Request, done: str = "", *, _user: OfficeUser, session: Db):
    return _flags_page(request, session, [{"kind": "ok", "text": done}] if done else [])


@router.post("/office/flags/{flag_id}", response_class=HTMLResponse)
def decide_flag(
    request: Request,
    flag_id: int,
    decision: str = Form(""),
    note: str = Form(""),
    zone: str = Form(""),
    to_copy: str = Form(""),
    page: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
    store: Store,
) -> Response:
    lang = request_language(request)
    try:
        number = int(page) if page.strip() else None
        said = decide(
            session,
            actor_of(user),
            flag_id,
            decision,
            note,
            store=store,
            zone=parse_zone(zone) if zone.strip() else None,
            target_copy=to_copy or None,
            page_number=number,
        )
    except ValueError:
        session.rollback()
        return _flags_page(
            request, session, [{"kind": "error", "text": "A page number is a whole number."}], 409
        )
    except UserError as exc:
        session.rollback()
        return _flags_page(request, session, [{"kind": "error", "text": _said(exc, lang)}], 409)
    text = i18n.translate(lang, "rules.flags.done", said=said)
    return RedirectResponse(f"/office/flags?done={quote(text)}", status_code=303)


def _incompat_page(request: Request, session, messages=(), status: int = 200) -> Response:
    return render(
        request,
        "office_incompatibilities.html",
        {"rows": incompatibilities.listing(session), "messages": list(messages)},
        status_code=status,
    )


@router.get("/office/incompatibilities", response_class=HTMLResponse)
def incompatibilities_page(request: Request, done: str = "", *, _user: OfficeUser, session: Db):
    return _incompat_page(request, session, [{"kind": "ok", "text": done}] if done else [])


@router.post("/office/incompatibilities", response_class=HTMLResponse)
def record_incompatibility(
    request: Request,
    corrector: str = Form(""),
    candidate: str = Form(""),
    establishment: str = Form(""),
    reason: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
) -> Response:
    lang = request_language(request)
    try:
        incompatibilities.record(
            session,
            actor_of(user),
            display_name(user),
            corrector,
            candidate=candidate.strip() or None,
            establishment=establishment.strip() or None,
            reason=reason,
        )
    except UserError as exc:
        session.rollback()
        return _incompat_page(request, session, [{"kind": "error", "text": _said(exc, lang)}], 409)
    text = i18n.translate(lang, "rules.incompat.done")
    return RedirectResponse(f"/office/incompatibilities?done={quote(text)}", status_code=303)


@router.post("/office/incompatibilities/teaches", response_class=HTMLResponse)
def record_teaches_also(
    request: Request,
    corrector: str = Form(""),
    establishment: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
) -> Response:
    lang = request_language(request)
    try:
        said = incompatibilities.teaches_also(session, actor_of(user), corrector, establishment)
    except UserError as exc:
        session.rollback()
        return _incompat_page(request, session, [{"kind": "error", "text": _said(exc, lang)}], 409)
    return RedirectResponse(f"/office/incompatibilities?done={quote(said)}", status_code=303)
