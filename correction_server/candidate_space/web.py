"""The candidate's pages (role `candidate` only, each on his own things).

    GET  /candidate/activate                         activation form (letter's code, then a password)
    POST /candidate/activate                         activate; logged in on success
    GET  /candidate/login, POST /candidate/login     the candidate's login (registration + password)
    GET  /candidate                                  his papers and results
    GET  /candidate/copies/{copy_token}              his copy: pages with the annotation layer, marks
    GET  /candidate/copies/{copy_token}/pages/{position}/image   one page image
    GET  /candidate/copies/{copy_token}/copy.pdf     the consultation PDF
    POST /candidate/copies/{copy_token}/requests     ask for a review of a material error

A copy token that is not one of his own open copies answers like one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from correction_server import i18n
from correction_server.audit.actors import actor_of
from correction_server.auth import passwords
from correction_server.auth import sessions as auth
from correction_server.candidate_space import activation, copies, results, review_requests
from correction_server.deps import CandidateUser, Db, Limiter, SettingsDep, Store
from correction_server.models import Candidate, User
from correction_server.pages.serving import page_image_response
from correction_server.web.home import client_ip, logged_in, pre_token, with_pre_cookie
from correction_server.web.rendering import render, request_language
from massicot_core.errors import Refused

router = APIRouter(include_in_schema=False)

HOME = "/candidate"


def _said(request: Request, exc: Refused) -> list[dict[str, str]]:
    return [{"kind": "error", "text": exc.words(request_language(request))}]


def _public_form(request: Request, template: str, context: dict, status: int = 200) -> Response:
    token = pre_token(request)
    base = {
        "pre_token": token,
        "min_length": auth.MIN_PASSWORD_LENGTH,
        "min_distinct": passwords.MIN_DISTINCT,
    }
    return with_pre_cookie(request, render(request, template, {**base, **context}, status_code=status), token)


def _form_expired(request: Request, csrf_token: str) -> bool:
    return not auth.tokens_match(request.cookies.get(auth.PRE_LOGIN_COOKIE), csrf_token)


@router.get("/candidate/activate", response_class=HTMLResponse)
def activate_page(request: Request) -> Response:
    return _public_form(request, "candidate/activate.html", {})


@router.post("/candidate/activate", response_class=HTMLResponse)
def activate(
    request: Request,
    registration: str = Form(""),
    birth_date: str = Form(""),
    code: str = Form(""),
    password: str = Form(""),
    confirm: str = Form(""),
    csrf_token: str = Form(""),
    *,
    session: Db,
    limiter: Limiter,
    settings: SettingsDep,
) -> Response:
    typed = {"registration": registration, "birth_date": birth_date, "code": code}
    if _form_expired(request, csrf_token):
        refusal = Refused(400, "candidate.err.expired_form")
        return _public_form(
            request, "candidate/activate.html", {**typed, "messages": _said(request, refusal)}, 400
        )
    try:
        done = activation.activate(
            session,
            limiter,
            settings.secret_key,
            client_ip(request),
            registration,
            birth_date,
            code,
            (password, confirm),
        )
    except Refused as exc:
        session.rollback()
        response = _public_form(
            request, "candidate/activate.html", {**typed, "messages": _said(request, exc)}, exc.status
        )
        if "retry_after" in exc.extra:
            response.headers["Retry-After"] = str(exc.extra["retry_after"])
        return response
    return logged_in(request, done.opened, HOME + "?welcome=1")


@router.get("/candidate/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _public_form(request, "candidate/login.html", {})


@router.post("/candidate/login", response_class=HTMLResponse)
def login(
    request: Request,
    registration: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    *,
    session: Db,
    limiter: Limiter,
    settings: SettingsDep,
) -> Response:
    if _form_expired(request, csrf_token):
        refusal = Refused(400, "candidate.err.expired_form")
        context = {"registration": registration, "messages": _said(request, refusal)}
        return _public_form(request, "candidate/login.html", context, 400)
    try:
        opened = activation.candidate_login(
            session, limiter, settings.secret_key, client_ip(request), registration, password
        )
    except Refused as exc:
        session.rollback()
        context = {"registration": registration, "messages": _said(request, exc)}
        response = _public_form(request, "candidate/login.html", context, exc.status)
        if "retry_after" in exc.extra:
            response.headers["Retry-After"] = str(exc.extra["retry_after"])
        return response
    return logged_in(request, opened, HOME)


def _candidate(session, user: User) -> Candidate:
    candidate = activation.candidate_of(session, user)
    if candidate is None:  # an account without its candidate (never made so): nothing to show
        raise copies.not_found()
    return candidate


@router.get("/candidate", response_class=HTMLResponse)
def home(
    request: Request, welcome: int = 0, *, user: CandidateUser, session: Db, settings: SettingsDep
) -> Response:
    candidate = _candidate(session, user)
    lines = results.papers_of_candidate(session, candidate, datetime.now(UTC))
    tokens = {
        line.paper_id: copies.copy_token(settings.secret_key, line.copy_id) for line in lines if line.copy_id
    }
    lang = request_language(request)
    messages = [{"kind": "ok", "text": i18n.translate(lang, "candidate.login.done")}] if welcome else []
    return render(
        request,
        "candidate/home.html",
        {"lines": lines, "tokens": tokens, "messages": messages, "Access": results.Access},
    )


@router.get("/candidate/copies/{copy_token}", response_class=HTMLResponse)
def copy_page(
    request: Request,
    copy_token: str,
    sent: int = 0,
    *,
    user: CandidateUser,
    session: Db,
    store: Store,
    settings: SettingsDep,
) -> Response:
    candidate = _candidate(session, user)
    own = copies.open_own_copy(session, candidate, settings.secret_key, copy_token)
    view = copies.copy_view(session, store, settings.derived_path, own, copy_token)
    asked = review_requests.requests_of_copy(session, own.copy.id)
    lang = request_language(request)
    messages = [{"kind": "ok", "text": i18n.translate(lang, "candidate.request.sent")}] if sent else []
    return render(request, "candidate/copy.html", {"view": view, "asked": asked, "messages": messages})


@router.get("/candidate/copies/{copy_token}/pages/{position}/image")
def page_image(
    request: Request,
    copy_token: str,
    position: int,
    *,
    user: CandidateUser,
    session: Db,
    store: Store,
    settings: SettingsDep,
) -> Response:
    candidate = _candidate(session, user)
    own = copies.open_own_copy(session, candidate, settings.secret_key, copy_token)
    look = copies.own_page_look(session, own, position)
    session.close()  # the image may take a moment: give the database connection back first
    return page_image_response(
        request.headers.get("if-none-match"), store, settings.derived_path, look, copies.CANDIDATE_WIDTH
    )


@router.get("/candidate/copies/{copy_token}/copy.pdf")
def copy_pdf(
    request: Request,
    copy_token: str,
    *,
    user: CandidateUser,
    session: Db,
    store: Store,
    settings: SettingsDep,
) -> Response:
    candidate = _candidate(session, user)
    own = copies.open_own_copy(session, candidate, settings.secret_key, copy_token)
    data = copies.own_copy_pdf(
        session, store, settings.derived_path, own, candidate, user, request_language(request)
    )
    session.commit()
    name = f"copie-{own.paper.code}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/candidate/copies/{copy_token}/requests", response_class=HTMLResponse)
def ask_review(
    request: Request,
    copy_token: str,
    message: str = Form(""),
    *,
    user: CandidateUser,
    session: Db,
    store: Store,
    settings: SettingsDep,
) -> Response:
    candidate = _candidate(session, user)
    own = copies.open_own_copy(session, candidate, settings.secret_key, copy_token)
    try:
        review_requests.ask_review(session, candidate, own.paper.id, own.copy.id, message, actor_of(user))
    except Refused as exc:
        session.rollback()
        view = copies.copy_view(session, store, settings.derived_path, own, copy_token)
        asked = review_requests.requests_of_copy(session, own.copy.id)
        context = {"view": view, "asked": asked, "messages": _said(request, exc), "message": message}
        return render(request, "candidate/copy.html", context, status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/candidate/copies/{copy_token}?sent=1#requests", status_code=303)
