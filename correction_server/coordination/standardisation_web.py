"""What the standardisation meeting (réunion d'entente) settles, in the browser: thin routes over
correction_server.marking.scheme (the lock) and correction_server.marking.comments (the shared
bank); what the pages show from correction_server.coordination.views.

    GET  /coordination/papers/{paper_id}/scheme/lock          the barème and plain words: confirm the lock
    POST /coordination/papers/{paper_id}/scheme/lock          lock it (confirm=yes), audited by the service
    GET  /coordination/papers/{paper_id}/comments             the paper's shared comment bank
    POST /coordination/papers/{paper_id}/comments             add a shared comment
    POST /coordination/papers/{paper_id}/comments/{comment_id}         new wording (every use follows)
    POST /coordination/papers/{paper_id}/comments/{comment_id}/retire  out of the bank

Who: the coordinator of the paper (a CorrectorPaper link to it) or the exam office; anyone
else gets the same 404 as for a paper that does not exist (access.ensure_paper_visible).
The lock is a separate confirmation page rather than a script dialog: it cannot be undone,
so the barème is shown again beside the button that locks it, and it works without JavaScript.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from correction_server.audit.actors import actor_of
from correction_server.auth.access import ensure_paper_visible
from correction_server.coordination import views
from correction_server.coordination.refusals import in_words
from correction_server.deps import Db, SupervisorUser
from correction_server.i18n import translate
from correction_server.marking import comments, scheme
from correction_server.models import Paper, User
from correction_server.web.rendering import render, request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)


def _text(form, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------- locking the barème


def _confirm_page(request: Request, session: Session, paper_id: int, messages=(), status: int = 200):
    context = views.lock_page(session, paper_id) | {"when": _when, "messages": list(messages)}
    return render(request, "coord_scheme_lock.html", context, status)


@router.get("/coordination/papers/{paper_id}/scheme/lock", response_class=HTMLResponse)
def confirm_lock(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    ensure_paper_visible(session, user, paper_id)
    return _confirm_page(request, session, paper_id)


@router.post("/coordination/papers/{paper_id}/scheme/lock", response_class=HTMLResponse)
async def lock(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    confirmed = _text(await request.form(), "confirm") == "yes"
    return _lock(request, session, user, paper_id, confirmed)


def _lock(request: Request, session: Session, user: User, paper_id: int, confirmed: bool) -> Response:
    ensure_paper_visible(session, user, paper_id)
    lang = request_language(request)
    if not confirmed:
        words = translate(lang, "entente.confirm_missing")
        return _confirm_page(request, session, paper_id, [{"kind": "error", "text": words}], 400)
    paper = session.get(Paper, paper_id)
    try:
        locked_at = scheme.lock_scheme(session, paper, actor_of(user))
        session.commit()
    except UserError as exc:
        session.rollback()
        error = [{"kind": "error", "text": in_words(exc, lang)}]
        return _confirm_page(request, session, paper_id, error, 409)
    text = translate(lang, "entente.locked_now", paper=paper.code, at=_when(locked_at))
    context = views.paper_context(session, paper_id, lang) | {"messages": [{"kind": "ok", "text": text}]}
    return render(request, "coord_paper.html", context)


# ---------------------------------------------------------------- the shared comment bank


def _bank_page(
    request: Request,
    session: Session,
    user: User,
    paper_id: int,
    messages=(),
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    context = views.shared_bank_page(session, user, paper_id) | {
        "typed": typed or {},
        "messages": list(messages),
    }
    return render(request, "coord_comments.html", context, status)


def _refused(request, session, user, paper_id, exc: comments.CommentRefused, typed=None) -> Response:
    session.rollback()
    error = [{"kind": "error", "text": exc.words(request_language(request))}]
    return _bank_page(request, session, user, paper_id, error, exc.status, typed)


@router.get("/coordination/papers/{paper_id}/comments", response_class=HTMLResponse)
def shared_bank(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    ensure_paper_visible(session, user, paper_id)
    return _bank_page(request, session, user, paper_id)


@router.post("/coordination/papers/{paper_id}/comments", response_class=HTMLResponse)
async def add_shared(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    text = _text(await request.form(), "text")
    ensure_paper_visible(session, user, paper_id)
    try:
        comments.add(session, user, paper_id, text, shared=True)
        session.commit()
    except comments.CommentRefused as exc:
        return _refused(request, session, user, paper_id, exc, {"new": text})
    words = translate(request_language(request), "entente.added")
    return _bank_page(request, session, user, paper_id, [{"kind": "ok", "text": words}])


@router.post("/coordination/papers/{paper_id}/comments/{comment_id}", response_class=HTMLResponse)
async def edit_shared(
    request: Request,
    paper_id: int,
    comment_id: int,
    user: SupervisorUser,
    session: Db,
):
    text = _text(await request.form(), "text")
    ensure_paper_visible(session, user, paper_id)
    try:
        comments.ensure_shared_entry(session, paper_id, comment_id)
        entry = comments.edit(session, user, comment_id, text)
        session.commit()
    except comments.CommentRefused as exc:
        return _refused(request, session, user, paper_id, exc, {str(comment_id): text})
    words = translate(request_language(request), "entente.edited", n=entry.uses)
    return _bank_page(request, session, user, paper_id, [{"kind": "ok", "text": words}])


@router.post("/coordination/papers/{paper_id}/comments/{comment_id}/retire", response_class=HTMLResponse)
def retire_shared(
    request: Request,
    paper_id: int,
    comment_id: int,
    user: SupervisorUser,
    session: Db,
):
    ensure_paper_visible(session, user, paper_id)
    try:
        comments.ensure_shared_entry(session, paper_id, comment_id)
        entry = comments.retire(session, user, comment_id)
        session.commit()
    except comments.CommentRefused as exc:
        return _refused(request, session, user, paper_id, exc)
    lang = request_language(request)
    words = (
        translate(lang, "entente.deleted")
        if entry is None
        else translate(lang, "entente.retired_now", n=entry.uses)
    )
    return _bank_page(request, session, user, paper_id, [{"kind": "ok", "text": words}])
