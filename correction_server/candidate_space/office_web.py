"""The office's pages of the candidate space (role `office` only).

GET  /office/candidates                          access letters form; the candidates' requests
POST /office/candidates/letters                  issue letters (paper or centre) → PDF
GET  /office/candidates/requests/{request_id}    one request, beside the copy
POST /office/candidates/requests/{request_id}    the answer (and a corrected mark, if any)
"""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from correction_server import i18n
from correction_server.audit.actors import actor_of
from correction_server.auth.access import NOT_YOURS
from correction_server.candidate_space import letters, review_requests
from correction_server.coordination.people import display_name
from correction_server.deps import Db, OfficeUser
from correction_server.models import Candidate, Paper, ReviewRequest
from correction_server.web.rendering import render, request_language
from massicot_core.errors import Refused, UserError

router = APIRouter(include_in_schema=False)

PAGE = "/office/candidates"


def space_address(request: Request) -> str:
    """Where the candidates' space is, as this server is reached (the letters print it)."""
    return str(request.base_url).rstrip("/") + "/candidate"


def _page(
    request: Request, session, messages: list[dict] | None = None, status: int = 200, **typed
) -> Response:
    context = {
        "requests": review_requests.office_requests(session),
        "address": typed.pop("address", "") or space_address(request),
        "valid_days": letters.DEFAULT_VALID_DAYS,
        "messages": messages or [],
        **typed,
    }
    return render(request, "candidate/office.html", context, status_code=status)


@router.get(PAGE, response_class=HTMLResponse)
def office_page(request: Request, user: OfficeUser, session: Db) -> Response:
    return _page(request, session)


@router.post(PAGE + "/letters")
def issue_letters(
    request: Request,
    paper: str = Form(""),
    centre: str = Form(""),
    valid_days: int = Form(letters.DEFAULT_VALID_DAYS),
    address: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
) -> Response:
    lang = request_language(request)
    address = address.strip() or space_address(request)
    try:
        chosen = letters.candidates_for(session, paper or None, centre or None)
        scope = f"paper {paper.strip().upper()}" if paper else f"centre {centre.strip().upper()}"
        issued = letters.issue_codes(session, chosen, actor_of(user), display_name(user), scope, valid_days)
        data = letters.letters_pdf(issued, address, lang)
    except Refused as exc:
        session.rollback()
        messages = [{"kind": "error", "text": exc.words(lang)}]
        return _page(request, session, messages, exc.status, paper=paper, centre=centre, address=address)
    session.commit()
    which = (paper or centre).strip().upper()
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="lettres-acces-{which}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


def _request(session, request_id: int) -> tuple[ReviewRequest, Candidate]:
    row = session.get(ReviewRequest, request_id)
    if row is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return row, session.get(Candidate, row.candidate_id)


def _request_page(
    request: Request, session, request_id: int, messages=None, status: int = 200, **typed
) -> Response:
    row, candidate = _request(session, request_id)
    paper = session.get(Paper, row.paper_id)
    context = {"r": row, "candidate": candidate, "paper": paper, "messages": messages or [], **typed}
    return render(request, "candidate/office_request.html", context, status_code=status)


@router.get(PAGE + "/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request, request_id: int, done: int = 0, *, user: OfficeUser, session: Db
) -> Response:
    lang = request_language(request)
    messages = [{"kind": "ok", "text": i18n.translate(lang, "candidate.office.answered")}] if done else []
    return _request_page(request, session, request_id, messages)


@router.post(PAGE + "/requests/{request_id}", response_class=HTMLResponse)
def answer_request(
    request: Request,
    request_id: int,
    answer: str = Form(""),
    corrected_mark: str = Form(""),
    by: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
) -> Response:
    _request(session, request_id)
    lang = request_language(request)
    try:
        review_requests.answer_review(
            session, request_id, answer, corrected_mark, actor_of(user), by.strip() or display_name(user)
        )
    except UserError as exc:
        session.rollback()
        text = exc.words(lang) if isinstance(exc, Refused) else str(exc)
        status = exc.status if isinstance(exc, Refused) else 400
        messages = [{"kind": "error", "text": text}]
        return _request_page(
            request,
            session,
            request_id,
            messages,
            status,
            answer=answer,
            corrected_mark=corrected_mark,
            by=by,
        )
    session.commit()
    return RedirectResponse(f"{PAGE}/requests/{request_id}?done=1", status_code=303)
