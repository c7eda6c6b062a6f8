"""The office console's pages: the session at a glance (/office), the session's settings (its
time zone), imports, and the background actions with their progress.

Thin routes: each takes what it needs from `deps`, calls an office service (the same as the
command line's), and renders; every form answers with a redirect (POST-redirect-GET).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from correction_server import i18n
from correction_server.auth.access import NOT_YOURS
from correction_server.coordination.people import display_name
from correction_server.deps import Db, OfficeUser, Parts
from correction_server.office import actions, console_work
from correction_server.office.glance import session_glance
from correction_server.office.uploads import keep_upload
from correction_server.web import clock
from correction_server.web.rendering import render, request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def said(path: str, key: str, kind: str = "ok") -> RedirectResponse:
    """Back to a page, which shows a sentence of the catalogue (key) as its result."""
    sep = "&" if "?" in path else "?"
    return see_other(f"{path}{sep}said={quote(key)}&kind={kind}")


def messages_of(request: Request, lang: str) -> list[dict[str, str]]:
    """The result of the form just sent: a sentence of the catalogue (?said=key), or a refusal's
    own words (kept for a minute in a cookie by the page that refused, ?refused=1)."""
    if request.query_params.get("refused"):
        try:
            text = json.loads(request.cookies.get("massicot_refused") or '""')
        except ValueError:
            text = ""
        return [{"kind": "error", "text": str(text)}] if text else []
    key = request.query_params.get("said", "")
    if not key.startswith("office.") or key not in i18n.CATALOGUE.get(lang, {}):
        return []
    kind = "error" if request.query_params.get("kind") == "error" else "ok"
    return [{"kind": kind, "text": i18n.translate(lang, key)}]


@router.get("/office", response_class=HTMLResponse)
def glance_page(request: Request, _user: OfficeUser, session: Db) -> Response:
    lang = request_language(request)
    papers = session_glance(session, clock.now(), lang)
    recent = actions.recent(session, 5)
    context = {"papers": papers, "actions": recent, "messages": messages_of(request, lang)}
    return render(request, "office_glance.html", context)


@router.get("/office/settings", response_class=HTMLResponse)
def settings_page(request: Request, _user: OfficeUser) -> Response:
    lang = request_language(request)
    context = {"zone": clock.zone_name(), "messages": messages_of(request, lang)}
    return render(request, "office_settings.html", context)


@router.post("/office/settings")
def save_settings(time_zone: str = Form(""), *, _user: OfficeUser, session: Db) -> Response:
    try:
        clock.set_zone(session, time_zone)
    except clock.UnknownZone:
        return said("/office/settings", "office.settings.unknown_zone", "error")
    session.commit()
    return said("/office/settings", "office.settings.saved")


# --- imports ---------------------------------------------------------------------------------


@router.get("/office/imports", response_class=HTMLResponse)
def imports_page(request: Request, _user: OfficeUser, session: Db) -> Response:
    lang = request_language(request)
    context = {"actions": actions.recent(session, 10), "messages": messages_of(request, lang)}
    return render(request, "office_imports.html", context)


def _start(request: Request, parts, user, kind: str, target: str, params: dict) -> RedirectResponse:
    """Record the action and hand it to the server's job runner, named by kind and parameters."""
    lang = request_language(request)
    started = actions.start_job(
        parts.session_factory,
        kind,
        target,
        lambda action_id: parts.jobs.office_action(action_id, kind, params, lang),
        by_user_id=user.id,
        by_name=display_name(user),
    )
    suffix = "?again=1" if started.already_running else ""
    return see_other(f"/office/actions/{started.action_id}{suffix}")


@router.post("/office/imports/candidates")
def upload_candidates(
    request: Request,
    file: UploadFile = File(...),
    registration_digits: str = Form(""),
    *,
    user: OfficeUser,
    parts: Parts,
) -> Response:
    name = file.filename or "candidates.csv"
    try:
        upload_id = keep_upload(parts.settings.store_path, name, file.file.read(), "candidates.csv")
    except UserError:
        return said("/office/imports", "office.import.too_big", "error")
    digits = _digits(registration_digits)
    return _check_candidates(request, parts, user, upload_id, digits)


def _digits(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and 4 <= int(text) <= 16 else None


def _check_candidates(request, parts, user, upload_id: str, digits: int | None) -> RedirectResponse:
    target = console_work.candidates_target(upload_id, digits)
    params = {"upload_id": upload_id, "digits": digits}
    return _start(request, parts, user, console_work.CHECK_CANDIDATES, target, params)


@router.post("/office/imports/paper")
def upload_paper(
    request: Request, file: UploadFile = File(...), *, user: OfficeUser, parts: Parts
) -> Response:
    name = file.filename or "paper.yaml"
    try:
        upload_id = keep_upload(parts.settings.store_path, name, file.file.read(), "paper.yaml")
    except UserError:
        return said("/office/imports", "office.import.too_big", "error")
    return _check_paper(request, parts, user, upload_id)


def _check_paper(request, parts, user, upload_id: str) -> RedirectResponse:
    params = {"upload_id": upload_id}
    return _start(request, parts, user, console_work.CHECK_PAPER, upload_id, params)


@router.post("/office/imports/paper-form")
def paper_form(
    request: Request,
    session_name: str = Form(""),
    code: str = Form(""),
    title: str = Form(""),
    max_mark: str = Form(""),
    questions: str = Form(""),
    *,
    user: OfficeUser,
    parts: Parts,
) -> Response:
    """A paper typed in the form: written as the YAML file the command reads, then checked alike."""
    from correction_server.office.paper_form import paper_yaml

    text = paper_yaml(session_name, code, title, max_mark, questions)
    upload_id = keep_upload(
        parts.settings.store_path, f"{code.strip() or 'paper'}.yaml", text.encode(), "paper.yaml"
    )
    return _check_paper(request, parts, user, upload_id)


# --- actions ---------------------------------------------------------------------------------


def _action_or_404(session, action_id: int):
    action = actions.get(session, action_id)
    if action is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return action


@router.get("/office/actions", response_class=HTMLResponse)
def actions_page(request: Request, _user: OfficeUser, session: Db) -> Response:
    return render(request, "office_actions.html", {"actions": actions.recent(session, 50)})


@router.get("/office/actions/{action_id}", response_class=HTMLResponse)
def action_page(request: Request, action_id: int, _user: OfficeUser, session: Db) -> Response:
    lang = request_language(request)
    action = _action_or_404(session, action_id)
    messages = messages_of(request, lang)
    if request.query_params.get("again"):
        messages.append({"kind": "info", "text": i18n.translate(lang, "office.action.already")})
    context = {
        "action": action,
        "messages": messages,
        "next_kind": console_work.CHECKS.get(action.kind),
        "offers_digits": action.kind == console_work.CHECK_CANDIDATES
        and console_work.offers_digits(action.outcome),
        "outcome_lines": [line for line in action.outcome.split("\n") if line.strip()],
        "retention_papers": _retention_papers(action),
    }
    return render(request, "office_action.html", context)


def _retention_papers(action) -> str:
    if action.kind != console_work.RETENTION_DRY or not action.succeeded:
        return ""
    return action.target.partition("|")[2]


@router.post("/office/actions/{action_id}/import")
def import_checked(
    request: Request, action_id: int, *, user: OfficeUser, session: Db, parts: Parts
) -> Response:
    """The import of a file whose check came out clean (the same bytes)."""
    action = _action_or_404(session, action_id)
    if action.kind not in console_work.CHECKS or not action.succeeded:
        return said(f"/office/actions/{action_id}", "office.import.check_first", "error")
    if action.kind == console_work.CHECK_CANDIDATES:
        upload_id, digits = console_work.parse_target(action.target)
        params: dict = {"upload_id": upload_id, "digits": digits}
    else:
        params = {"upload_id": action.target}
    return _start(request, parts, user, console_work.CHECKS[action.kind], action.target, params)


@router.post("/office/actions/{action_id}/recheck")
def recheck_with_digits(
    request: Request,
    action_id: int,
    registration_digits: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
    parts: Parts,
) -> Response:
    """The same candidate file checked again, every registration number having N digits."""
    action = _action_or_404(session, action_id)
    digits = _digits(registration_digits)
    if action.kind != console_work.CHECK_CANDIDATES or digits is None:
        return said(f"/office/actions/{action_id}", "office.import.digits_needed", "error")
    upload_id, _ = console_work.parse_target(action.target)
    return _check_candidates(request, parts, user, upload_id, digits)
