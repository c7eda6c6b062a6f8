"""The office console's centres, people, papers (correction) and housekeeping pages.

Thin routes over the office's services and the same services as the command line's
(`auth.tokens.issue_centre_token`, `office.accounts`, `auth.passwords.reset_password`,
`marking.scheme.lock_scheme`, `dispatch`, the purges, `audit verify`). A secret shown once (a
station token, a set-password link, a one-time password) travels to the page that shows it in a
short-lived HttpOnly cookie, so the form still answers with a redirect and a reload shows nothing.
"""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from correction_server.audit.actors import actor_of
from correction_server.auth.access import NOT_YOURS
from correction_server.auth.passwords import reset_password
from correction_server.auth.tokens import issue_centre_token
from correction_server.coordination.people import display_name
from correction_server.deps import Db, OfficeUser, Parts
from correction_server.dispatch.lots import lot_summaries
from correction_server.marking.scheme import lock_scheme, scheme_state
from correction_server.models import Centre, Paper, User
from correction_server.office import console_work
from correction_server.office.accounts import import_accounts, set_password_link
from correction_server.office.centres import centre_pushes, centres_overview, rooms_of, set_contact
from correction_server.office.console_web import _start, messages_of, said, see_other
from correction_server.office.glance import paper_glance
from correction_server.office.import_report import ImportRejected
from correction_server.office.people import add_account, people, set_active
from correction_server.office.rolls import placed_roll, placed_roll_csv
from correction_server.office.uploads import forget_upload, keep_upload, upload_path
from correction_server.office.windows import set_scan_deadline, set_window, window_editable
from correction_server.web import clock
from correction_server.web.rendering import render, request_language
from massicot_core.errors import Refused, UserError

router = APIRouter(include_in_schema=False)

ONCE_COOKIE = "massicot_once"
ONCE_SECONDS = 120


def _shown_once(path: str, payload: dict) -> RedirectResponse:
    response = see_other(path)
    response.set_cookie(
        ONCE_COOKIE,
        json.dumps(payload),
        max_age=ONCE_SECONDS,
        path="/office/once",
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/office/once", response_class=HTMLResponse)
def once_page(request: Request, _user: OfficeUser) -> Response:
    """The secret just issued, shown this once (a printable sheet for a station token)."""
    try:
        payload = json.loads(request.cookies.get(ONCE_COOKIE) or "{}")
    except ValueError:
        payload = {}
    template = "office_token_sheet.html" if payload.get("kind") == "token" else "office_once.html"
    response = render(request, template, {"once": payload, "server": str(request.base_url).rstrip("/")})
    response.delete_cookie(ONCE_COOKIE, path="/office/once")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- centres ---------------------------------------------------------------------------------


def _centre_or_404(session, centre_id: int) -> Centre:
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return centre


def _paper_or_404(session, paper_id: int) -> Paper:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return paper


@router.get("/office/centres", response_class=HTMLResponse)
def centres_page(request: Request, _user: OfficeUser, session: Db) -> Response:
    context = {
        "centres": centres_overview(session),
        "messages": messages_of(request, request_language(request)),
    }
    return render(request, "office_centres.html", context)


@router.get("/office/centres/{centre_id}", response_class=HTMLResponse)
def centre_page(request: Request, centre_id: int, _user: OfficeUser, session: Db) -> Response:
    centre = _centre_or_404(session, centre_id)
    papers = list(session.scalars(select(Paper).order_by(Paper.code)))
    rooms = {p.id: rooms_of(session, centre.id, p.id) for p in papers}
    context = {
        "centre": centre,
        "pushes": centre_pushes(session, centre.id),
        "papers": [p for p in papers if rooms[p.id]],
        "rooms": rooms,
        "messages": messages_of(request, request_language(request)),
    }
    return render(request, "office_centre.html", context)


@router.post("/office/centres/{centre_id}/contact")
def centre_contact(centre_id: int, contact: str = Form(""), *, _user: OfficeUser, session: Db) -> Response:
    _centre_or_404(session, centre_id)
    set_contact(session, centre_id, contact)
    session.commit()
    return said(f"/office/centres/{centre_id}", "office.centre.contact_saved")


@router.post("/office/centres/{centre_id}/token")
def centre_token(centre_id: int, confirm: str = Form(""), *, _user: OfficeUser, session: Db) -> Response:
    """A new station token (the old one stops working): confirmed first, shown once."""
    centre = _centre_or_404(session, centre_id)
    if confirm != "yes":
        return said(f"/office/centres/{centre_id}", "office.centre.confirm_token", "error")
    token = issue_centre_token(session, centre.uai)
    session.commit()
    return _shown_once(
        "/office/once", {"kind": "token", "uai": centre.uai, "name": centre.name, "secret": token}
    )


@router.get("/office/centres/{centre_id}/rolls/{paper_id}.csv")
def centre_roll_csv(
    request: Request, centre_id: int, paper_id: int, _user: OfficeUser, session: Db
) -> Response:
    """The centre's roll for a paper (?room=: one room), with room, table and deadline."""
    centre = _centre_or_404(session, centre_id)
    paper = _paper_or_404(session, paper_id)
    room = request.query_params.get("room")
    try:
        text = placed_roll_csv(paper, placed_roll(session, paper, centre.uai, room))
    except UserError as exc:
        return Response(str(exc), status_code=409, media_type="text/plain; charset=utf-8")
    suffix = f"-{room}" if room else ""
    name = f"roll-{paper.code}-{centre.uai}{suffix}.csv".replace(" ", "_")
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- people ----------------------------------------------------------------------------------


@router.get("/office/people", response_class=HTMLResponse)
def people_page(request: Request, _user: OfficeUser, session: Db) -> Response:
    context = {"people": people(session), "messages": messages_of(request, request_language(request))}
    return render(request, "office_people.html", context)


def _accounts_once(result) -> RedirectResponse:
    created = [
        {"username": a.username, "role": a.role.value, "secret": a.set_password_path or a.password}
        for a in result.created
    ]
    payload = {
        "kind": "accounts",
        "created": created,
        "changed": len(result.changed),
        "unchanged": len(result.unchanged),
    }
    return _shown_once("/office/once", payload)


@router.post("/office/people/add")
def people_add(
    request: Request,
    name: str = Form(""),
    email: str = Form(""),
    role: str = Form("corrector"),
    establishment_uai: str = Form(""),
    papers: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
    parts: Parts,
) -> Response:
    values = {
        "name": name,
        "email": email,
        "role": role,
        "establishment_uai": establishment_uai,
        "papers": papers,
    }
    try:
        result = add_account(session, values, parts.settings.secret_key, actor_of(user), display_name(user))
    except ImportRejected as exc:
        return _people_refused(request, session, str(exc))
    session.commit()
    return _accounts_once(result)


def _people_refused(request: Request, session, text: str) -> Response:
    messages = [{"kind": "error", "text": line} for line in text.split("\n") if line.strip()]
    return render(request, "office_people.html", {"people": people(session), "messages": messages}, 400)


@router.post("/office/people/import")
def people_import(
    request: Request, file: UploadFile = File(...), *, user: OfficeUser, session: Db, parts: Parts
) -> Response:
    """An accounts file (the command's columns): every account created gets a set-password link."""
    store = parts.settings.store_path
    try:
        upload_id = keep_upload(store, file.filename or "users.csv", file.file.read(), "users.csv")
        result = import_accounts(
            parts.session_factory,
            upload_path(store, upload_id),
            parts.settings.secret_key,
            True,
            actor_of(user),
            display_name(user),
        )
    except UserError as exc:
        return _people_refused(request, session, str(exc))
    forget_upload(store, upload_id)
    return _accounts_once(result)


def _person_or_404(session, user_id: int) -> User:
    person = session.get(User, user_id)
    if person is None or person.role.value == "centre":
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return person


@router.post("/office/people/{user_id}/link")
def people_link(request: Request, user_id: int, *, user: OfficeUser, session: Db, parts: Parts) -> Response:
    person = _person_or_404(session, user_id)
    try:
        issued = set_password_link(
            session, person.username, parts.settings.secret_key, actor_of(user), display_name(user)
        )
    except UserError as exc:
        return _people_refused(request, session, str(exc))
    session.commit()
    payload = {
        "kind": "link",
        "username": issued.username,
        "secret": issued.path,
        "until": clock.local_text(issued.expires_at),
    }
    return _shown_once("/office/once", payload)


@router.post("/office/people/{user_id}/reset")
def people_reset(
    request: Request, user_id: int, confirm: str = Form(""), *, user: OfficeUser, session: Db
) -> Response:
    person = _person_or_404(session, user_id)
    if confirm != "yes":
        return said("/office/people", "office.people.confirm_reset", "error")
    try:
        reset = reset_password(session, person.username, actor_of(user), display_name(user))
    except UserError as exc:
        return _people_refused(request, session, str(exc))
    session.commit()
    return _shown_once(
        "/office/once", {"kind": "password", "username": reset.username, "secret": reset.one_time_password}
    )


@router.post("/office/people/{user_id}/active")
def people_active(
    request: Request,
    user_id: int,
    active: str = Form(""),
    confirm: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
) -> Response:
    _person_or_404(session, user_id)
    enable = active == "yes"
    if not enable and confirm != "yes":
        return said("/office/people", "office.people.confirm_disable", "error")
    try:
        set_active(session, user_id, enable, actor_of(user), display_name(user))
    except UserError as exc:
        return _people_refused(request, session, str(exc))
    session.commit()
    return said("/office/people", "office.people.enabled" if enable else "office.people.disabled")


# --- papers: the correction ------------------------------------------------------------------


@router.get("/office/papers/{paper_id}", response_class=HTMLResponse)
def paper_page(request: Request, paper_id: int, _user: OfficeUser, session: Db, parts: Parts) -> Response:
    from correction_server.pages.rendering import missing_looks, page_looks

    paper = _paper_or_404(session, paper_id)
    lang = request_language(request)
    now = clock.now()
    looks = list(page_looks(parts.session_factory, paper.id))
    missing = sum(1 for _ in missing_looks(parts.settings.store_path, looks))
    context = {
        "paper": paper,
        "glance": paper_glance(session, paper, now, lang),
        "editable": window_editable(paper, now),
        "field": clock.field_value,
        "scheme": scheme_state(session, paper.id),
        "lots": lot_summaries(session, paper_ids={paper.id}),
        "images": len(looks),
        "images_missing": missing,
        "messages": messages_of(request, lang),
    }
    return render(request, "office_paper_console.html", context)


def _refused_back(path: str, request: Request, exc: UserError) -> Response:
    """Back to the page with the refusal's own words (kept in the one-time cookie)."""
    lang = request_language(request)
    text = exc.words(lang) if isinstance(exc, Refused) else str(exc)
    response = see_other(f"{path}?refused=1")
    response.set_cookie(
        "massicot_refused", json.dumps(text), max_age=60, path=path, httponly=True, samesite="strict"
    )
    return response


@router.post("/office/papers/{paper_id}/window")
def paper_window(
    request: Request,
    paper_id: int,
    opens: str = Form(""),
    closes: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
) -> Response:
    paper = _paper_or_404(session, paper_id)
    path = f"/office/papers/{paper_id}"
    try:
        set_window(session, paper, opens, closes, clock.now(), actor_of(user), display_name(user))
    except UserError as exc:
        return _refused_back(path, request, exc)
    session.commit()
    return said(path, "office.paper.window_saved")


@router.post("/office/papers/{paper_id}/deadline")
def paper_deadline(
    request: Request, paper_id: int, deadline: str = Form(""), *, user: OfficeUser, session: Db
) -> Response:
    paper = _paper_or_404(session, paper_id)
    path = f"/office/papers/{paper_id}"
    try:
        set_scan_deadline(session, paper, deadline, actor_of(user), display_name(user))
    except UserError as exc:
        return _refused_back(path, request, exc)
    session.commit()
    return said(path, "office.paper.deadline_saved")


@router.post("/office/papers/{paper_id}/lock")
def paper_lock(
    request: Request, paper_id: int, confirm: str = Form(""), *, user: OfficeUser, session: Db
) -> Response:
    paper = _paper_or_404(session, paper_id)
    path = f"/office/papers/{paper_id}"
    if confirm != "yes":
        return said(path, "office.paper.confirm_lock", "error")
    try:
        lock_scheme(session, paper, actor_of(user))
    except UserError as exc:
        return _refused_back(path, request, exc)
    session.commit()
    return said(path, "office.paper.locked")


@router.post("/office/papers/{paper_id}/dispatch")
def paper_dispatch(
    request: Request, paper_id: int, seed: str = Form(""), *, user: OfficeUser, session: Db, parts: Parts
) -> Response:
    """The dispatch in the background (its explanation, if copies cannot be placed, on the action's page)."""
    paper = _paper_or_404(session, paper_id)
    params = {"paper_id": paper.id, "seed": seed, "actor": console_work.actor_params(actor_of(user))}
    return _start(request, parts, user, console_work.DISPATCH, paper.code, params)


# --- housekeeping ----------------------------------------------------------------------------


@router.get("/office/housekeeping", response_class=HTMLResponse)
def housekeeping_page(request: Request, _user: OfficeUser, session: Db) -> Response:
    from correction_server.models import PushUpload

    uploads = session.execute(
        select(
            PushUpload.seal_sha256, Centre.uai, Paper.code, PushUpload.started_at, PushUpload.last_activity_at
        )
        .join(Centre, Centre.id == PushUpload.centre_id)
        .join(Paper, Paper.id == PushUpload.paper_id)
        .order_by(PushUpload.last_activity_at)
    ).all()
    context = {"uploads": uploads, "messages": messages_of(request, request_language(request))}
    return render(request, "office_housekeeping.html", context)


@router.post("/office/housekeeping/uploads")
def housekeeping_uploads(
    request: Request,
    older_than: str = Form("7"),
    dry_run: str = Form(""),
    confirm: str = Form(""),
    *,
    user: OfficeUser,
    parts: Parts,
) -> Response:
    days = int(older_than) if older_than.strip().isdigit() else -1
    if days < 2:
        return said("/office/housekeeping", "office.housekeeping.days", "error")
    dry = dry_run == "yes"
    if not dry and confirm != "yes":
        return said("/office/housekeeping", "office.housekeeping.confirm", "error")
    kind = console_work.PURGE_UPLOADS_DRY if dry else console_work.PURGE_UPLOADS
    params = {"days": days, "by_name": display_name(user)}
    return _start(request, parts, user, kind, str(days), params)


@router.post("/office/housekeeping/retention")
def housekeeping_retention(
    request: Request,
    before: str = Form(""),
    dry_run: str = Form(""),
    papers: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
    parts: Parts,
) -> Response:
    """The retention purge: a dry run first (what would go, paper by paper); then the purge,
    confirmed by typing the codes of the papers the dry run named."""
    from correction_server.closing.retention import purge

    try:
        day = date.fromisoformat(before.strip())
    except ValueError:
        return said("/office/housekeeping", "office.housekeeping.before", "error")
    dry = dry_run == "yes"
    if not dry:
        preview = purge(session, parts.store, None, day, actor_of(user), display_name(user), dry_run=True)
        typed = sorted({p.strip().upper() for p in papers.replace(",", " ").split() if p.strip()})
        if not preview.papers or typed != sorted(preview.papers):
            return said("/office/housekeeping", "office.housekeeping.name_papers", "error")
    kind = console_work.RETENTION_DRY if dry else console_work.RETENTION
    params = {
        "before": day.isoformat(),
        "actor": console_work.actor_params(actor_of(user)),
        "by_name": display_name(user),
    }
    return _start(request, parts, user, kind, day.isoformat(), params)


@router.post("/office/housekeeping/audit")
def housekeeping_audit(request: Request, *, user: OfficeUser, parts: Parts) -> Response:
    return _start(request, parts, user, console_work.AUDIT_VERIFY, "chain", {})
