"""A logged-in person's own account: changing his password (every role).

    GET  /account/password   the form (current password, the new one twice, the rule in words)
    POST /account/password   the change; CSRF-checked like every form; other sessions end

Rules in correction_server.auth.passwords. A wrong current password counts as a failed login in the
login rate limiter: a borrowed session cannot be used to guess the password.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from correction_server import i18n
from correction_server.auth import passwords
from correction_server.auth import sessions as auth
from correction_server.auth.access import PASSWORD_CHANGE_PAGE
from correction_server.deps import CurrentUser, Db, Limiter
from correction_server.models.accounts import User
from correction_server.web.home import client_ip
from correction_server.web.rendering import render, request_language

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, user: User, messages: list[dict[str, str]], status: int = 200, done: bool = False
):
    context = {
        "messages": messages,
        "must_change": user.must_change_password and not done,
        "done": done,
        "min_length": auth.MIN_PASSWORD_LENGTH,
        "min_distinct": passwords.MIN_DISTINCT,
    }
    return render(request, "account_password.html", context, status_code=status)


@router.get(PASSWORD_CHANGE_PAGE, response_class=HTMLResponse)
def password_page(request: Request, done: int = 0, *, user: CurrentUser) -> Response:
    lang = request_language(request)
    messages = [{"kind": "ok", "text": i18n.translate(lang, "account.password.done")}] if done else []
    return _page(request, user, messages, done=bool(done))


@router.post(PASSWORD_CHANGE_PAGE, response_class=HTMLResponse)
def change_password(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm: str = Form(""),
    *,
    user: CurrentUser,
    session: Db,
    limiter: Limiter,
) -> Response:
    refused = passwords.change_own_password_limited(
        session,
        limiter,
        user,
        client_ip(request),
        (current_password, new_password, confirm),
        request.state.login_session_id,
    )
    if refused is None:
        return RedirectResponse(PASSWORD_CHANGE_PAGE + "?done=1", status_code=303)
    text = i18n.translate(
        request_language(request),
        f"account.password.err.{refused.key}",
        n=auth.MIN_PASSWORD_LENGTH,
        distinct=passwords.MIN_DISTINCT,
        minutes=(refused.retry_after + 59) // 60,
    )
    response = _page(request, user, [{"kind": "error", "text": text}], refused.status)
    if refused.retry_after:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response
