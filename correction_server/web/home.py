"""Browser pages everyone meets: login, logout, language switch, set-password link, home per role."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from correction_server import i18n
from correction_server.auth import passwords
from correction_server.auth import sessions as auth
from correction_server.auth.access import (
    PASSWORD_CHANGE_PAGE,
    papers_of,
)
from correction_server.deps import CurrentUser, Db, Limiter, OptionalUser, SettingsDep
from correction_server.dispatch.lots import coordinator_home, corrector_home
from correction_server.models.accounts import Role
from correction_server.web.rendering import render, request_language

router = APIRouter(include_in_schema=False)

LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def safe_next(path: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/home"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def pre_token(request: Request) -> str:
    return request.cookies.get(auth.PRE_LOGIN_COOKIE) or secrets.token_urlsafe(24)


def with_pre_cookie(request: Request, response: Response, token: str) -> Response:
    if request.cookies.get(auth.PRE_LOGIN_COOKIE) != token:
        response.set_cookie(
            auth.PRE_LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/"
        )
    return response


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _flash(kind: str, text: str) -> list[dict[str, str]]:
    return [{"kind": kind, "text": text}]


@router.get("/")
def root(user: OptionalUser) -> RedirectResponse:
    return RedirectResponse("/home" if user else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/home", bye: int = 0) -> Response:
    token = pre_token(request)
    lang = request_language(request)
    messages = _flash("ok", i18n.translate(lang, "login.logged_out")) if bye else []
    response = render(
        request, "login.html", {"pre_token": token, "next_path": safe_next(next), "messages": messages}
    )
    return with_pre_cookie(request, response, token)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/home"),
    *,
    session: Db,
    limiter: Limiter,
    settings: SettingsDep,
) -> Response:
    lang = request_language(request)
    token = pre_token(request)

    def again(message_key: str, status: int, **values: object) -> Response:
        context = {
            "pre_token": token,
            "next_path": safe_next(next),
            "username": username,
            "messages": _flash("error", i18n.translate(lang, message_key, **values)),
        }
        return with_pre_cookie(request, render(request, "login.html", context, status_code=status), token)

    if not auth.tokens_match(request.cookies.get(auth.PRE_LOGIN_COOKIE), csrf_token):
        return again("login.expired_form", 400)
    attempt = limiter.begin(session, username, client_ip(request))
    if attempt.refused:
        key = "login.too_many_here" if attempt.per_address else "login.too_many"
        response = again(key, 429, minutes=(attempt.retry_after + 59) // 60)
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    user = auth.authenticate(session, username, password)
    # Candidates log in on their own page (/candidate/login), under their own rate-limit count.
    if user is None or user.role == Role.CANDIDATE:
        return again("login.failed", 401)  # the attempt, recorded by begin, stays a failure
    limiter.succeeded(session, attempt)
    opened = auth.open_session(session, user, settings.secret_key)
    session.commit()
    # A one-time password from the office: the person chooses his own before anything else.
    target = PASSWORD_CHANGE_PAGE if user.must_change_password else safe_next(next)
    return logged_in(request, opened, target)


def logged_in(request: Request, opened: auth.OpenedSession, target: str) -> RedirectResponse:
    """The answer to a successful login: the session cookie, and on to `target`."""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        opened.cookie_value,
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(auth.PRE_LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, _user: CurrentUser, session: Db) -> Response:
    auth.close_session(session, request.state.login_session_id)
    session.commit()
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE,
            code,
            max_age=LANGUAGE_COOKIE_AGE,
            samesite="lax",
            secure=_secure(request),
            path="/",
        )
    return response


@router.get("/password/{token}", response_class=HTMLResponse)
def set_password_page(request: Request, token: str, session: Db, settings: SettingsDep) -> Response:
    secret = settings.secret_key
    valid = auth.user_for_set_password_token(session, token, secret) is not None
    messages = (
        [] if valid else _flash("error", i18n.translate(request_language(request), "password.bad_link"))
    )
    pre = pre_token(request)
    context = {
        "valid": valid,
        "pre_token": pre,
        "min_length": auth.MIN_PASSWORD_LENGTH,
        "min_distinct": passwords.MIN_DISTINCT,
        "messages": messages,
    }
    return with_pre_cookie(request, render(request, "set_password.html", context, 200 if valid else 404), pre)


@router.post("/password/{token}", response_class=HTMLResponse)
def set_password(
    request: Request,
    token: str,
    password: str = Form(""),
    confirm: str = Form(""),
    csrf_token: str = Form(""),
    *,
    session: Db,
    settings: SettingsDep,
) -> Response:
    lang = request_language(request)
    secret = settings.secret_key
    user = auth.user_for_set_password_token(session, token, secret)
    pre = pre_token(request)

    def again(key: str, status: int, valid: bool = True) -> Response:
        context = {
            "valid": valid,
            "pre_token": pre,
            "min_length": auth.MIN_PASSWORD_LENGTH,
            "min_distinct": passwords.MIN_DISTINCT,
            "messages": _flash(
                "error",
                i18n.translate(lang, key, n=auth.MIN_PASSWORD_LENGTH, distinct=passwords.MIN_DISTINCT),
            ),
        }
        return with_pre_cookie(request, render(request, "set_password.html", context, status), pre)

    if user is None:
        return again("password.bad_link", 404, valid=False)
    if not auth.tokens_match(request.cookies.get(auth.PRE_LOGIN_COOKIE), csrf_token):
        return again("login.expired_form", 400)
    try:
        # The same rule as a change of one's own password, and its trace in the audit log.
        passwords.set_password_by_link(session, user, password, confirm)
    except passwords.PasswordRefused as exc:
        return again(f"account.password.err.{exc.key}", 400)
    session.commit()
    return RedirectResponse("/login?next=/home", status_code=303)


@router.get("/home", response_class=HTMLResponse)
def home(request: Request, user: CurrentUser, session: Db) -> Response:
    if user.role == Role.CORRECTOR:
        return render(
            request, "home_corrector.html", corrector_home(session, user.id, papers_of(session, user))
        )
    if user.role == Role.COORDINATOR:
        return render(request, "home_coordinator.html", coordinator_home(session, papers_of(session, user)))
    if user.role == Role.OFFICE:
        return render(request, "home_office.html")
    if user.role == Role.CANDIDATE:
        return RedirectResponse("/candidate", status_code=303)
    return render(request, "home_centre.html")
