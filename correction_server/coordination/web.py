"""The coordinator's pages (and the second reader's): thin routes over the coordination's services
(what the pages show from correction_server.coordination.views).

    GET  /coordination                                   papers he coordinates
    GET  /coordination/papers/{paper_id}                 progress, harmonisation, reassign, second reading
    GET  /coordination/papers/{paper_id}/progress        the progress block alone (the page refreshes it live)
    POST /coordination/papers/{paper_id}/reassign        move a lot's (or chosen) unmarked copies
    POST /coordination/papers/{paper_id}/second-readings ask a second corrector to mark a copy blind
    POST /coordination/papers/{paper_id}/decide          keep the first mark, take the second, or set another
    GET  /second-readings                                the second reader's list
    GET  /second-readings/{reading_id}                   the copy's pages and an empty barème (no first mark)
    POST /second-readings/{reading_id}                   the second mark
    GET  /second-readings/{reading_id}/image?page=N      a page image of that copy, for its second reader only

The coordinator sees correctors, copy ids and centres; never who wrote a copy.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from correction_server.audit.actors import actor_of
from correction_server.auth.access import NOT_YOURS, ensure_paper_visible
from correction_server.coordination import views
from correction_server.coordination.people import display_name
from correction_server.coordination.progress import shown_progress
from correction_server.coordination.reassignment import reassign as reassign_copies
from correction_server.coordination.refusals import CoordinationRefused, in_words
from correction_server.coordination.second_reading import (
    copy_of_paper,
    decide_second_reading,
    reading_for_reader,
    readings_of_reader,
    request_second_reading,
    save_second_reading,
)
from correction_server.deps import CorrectorUser, Db, SettingsDep, Store, SupervisorUser
from correction_server.i18n import translate
from correction_server.marking.rules import fmt
from correction_server.models import SecondReading, User
from correction_server.pages import images as page_images
from correction_server.pages.serving import page_image_response
from correction_server.web.rendering import render, request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)


@router.get("/coordination", response_class=HTMLResponse)
def index(request: Request, user: SupervisorUser, session: Db):
    papers = views.papers_for(session, user)
    progress = {p.id: shown_progress(session, p.id) for p in papers}
    return render(request, "coord_index.html", {"papers": papers, "progress": progress})


@router.get("/coordination/papers/{paper_id}", response_class=HTMLResponse)
def paper_page(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    ensure_paper_visible(session, user, paper_id)
    context = views.paper_context(session, paper_id, request_language(request))
    return render(request, "coord_paper.html", context)


@router.get("/coordination/papers/{paper_id}/progress", response_class=HTMLResponse)
def progress_block(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    ensure_paper_visible(session, user, paper_id)
    progress = shown_progress(session, paper_id)
    return render(request, "coord_progress.html", {"progress": progress})


def _after(request: Request, session: Session, paper_id: int, messages: list[dict], status: int) -> Response:
    context = views.paper_context(session, paper_id, request_language(request)) | {"messages": messages}
    return render(request, "coord_paper.html", context, status_code=status)


def _error(request: Request, exc: UserError | ValueError) -> list[dict]:
    return [{"kind": "error", "text": in_words(exc, request_language(request))}]


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def _one(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0].strip()


@router.post("/coordination/papers/{paper_id}/reassign", response_class=HTMLResponse)
async def reassign(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    form = await _form(request)
    return _reassign(request, session, user, paper_id, form)


def _reassign(request: Request, session: Session, user: User, paper_id: int, form: dict) -> Response:
    ensure_paper_visible(session, user, paper_id)
    lang = request_language(request)
    try:
        targets = [int(v) for v in form.get("to", []) if v.strip()]
        lot = _one(form, "lot_id")
        copies = [c for c in _one(form, "copy_ids").replace(",", " ").split() if c]
        outcome = reassign_copies(
            session,
            paper_id,
            to_corrector_ids=targets,
            actor=actor_of(user),
            by_name=display_name(user),
            lot_id=int(lot) if lot else None,
            copy_ids=copies if not lot else None,
            reason=_one(form, "reason"),
        )
        session.commit()
    except ValueError:
        session.rollback()
        return _after(
            request,
            session,
            paper_id,
            [{"kind": "error", "text": translate(lang, "coordination.err.pick_from_lists")}],
            400,
        )
    except UserError as exc:
        session.rollback()
        return _after(request, session, paper_id, _error(request, exc), 409)
    text = translate(lang, "coord.reassigned", moved=outcome.moved_count, kept=len(outcome.kept_marked))
    return _after(request, session, paper_id, [{"kind": "ok", "text": text}], 200)


@router.post("/coordination/papers/{paper_id}/second-readings", response_class=HTMLResponse)
async def ask_second_reading(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    form = await _form(request)
    ensure_paper_visible(session, user, paper_id)
    try:
        copy = copy_of_paper(session, _one(form, "copy_id"), paper_id)
        reading = request_second_reading(
            session,
            copy.id,
            int(_one(form, "reader_id") or 0),
            actor_of(user),
            _one(form, "reason"),
        )
        session.commit()
    except (UserError, ValueError) as exc:
        session.rollback()
        return _after(request, session, paper_id, _error(request, exc), 409)
    text = translate(request_language(request), "coord.reading_asked", copy=reading.copy_id)
    return _after(request, session, paper_id, [{"kind": "ok", "text": text}], 200)


@router.post("/coordination/papers/{paper_id}/decide", response_class=HTMLResponse)
async def decide(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    form = await _form(request)
    ensure_paper_visible(session, user, paper_id)
    try:
        reading = decide_second_reading(
            session,
            int(_one(form, "reading_id") or 0),
            paper_id,
            actor_of(user),
            _one(form, "choice"),
            _one(form, "mark"),
            _one(form, "reason"),
        )
        session.commit()
    except (UserError, ValueError) as exc:
        session.rollback()
        return _after(request, session, paper_id, _error(request, exc), 409)
    text = translate(
        request_language(request),
        "coord.decided",
        copy=reading.copy_id,
        mark=fmt(reading.decided_mark_20),
    )
    return _after(request, session, paper_id, [{"kind": "ok", "text": text}], 200)


# ---------------------------------------------------------------- the second reader


@router.get("/second-readings", response_class=HTMLResponse)
def my_readings(request: Request, user: CorrectorUser, session: Db):
    readings = readings_of_reader(session, user)
    codes = views.paper_codes(session)
    return render(request, "second_readings.html", {"readings": readings, "codes": codes})


def _reading_or_404(session: Session, reading_id: int, user: User) -> SecondReading:
    try:
        return reading_for_reader(session, reading_id, user)
    except CoordinationRefused:
        raise HTTPException(status_code=404, detail=NOT_YOURS) from None


def _reading_page(
    request: Request,
    session: Session,
    reading: SecondReading,
    messages=(),
    status: int = 200,
    typed: dict[int, str] | None = None,
) -> Response:
    context = views.reading_page(session, reading, typed) | {"messages": list(messages)}
    return render(request, "second_reading.html", context, status_code=status)


@router.get("/second-readings/{reading_id}", response_class=HTMLResponse)
def reading_page(
    request: Request, reading_id: int, user: CorrectorUser, session: Db
):
    return _reading_page(request, session, _reading_or_404(session, reading_id, user))


@router.post("/second-readings/{reading_id}", response_class=HTMLResponse)
async def save_reading(
    request: Request, reading_id: int, user: CorrectorUser, session: Db
):
    form = await _form(request)
    reading = _reading_or_404(session, reading_id, user)
    marks = {int(k[2:]): v[0] for k, v in form.items() if k.startswith("q-") and k[2:].isdigit()}
    try:
        save_second_reading(session, reading.id, user, marks, _one(form, "appreciation"))
        session.commit()
    except UserError as exc:
        session.rollback()
        reading = _reading_or_404(session, reading_id, user)
        return _reading_page(request, session, reading, _error(request, exc), 422, marks)
    message = translate(request_language(request), "reading.saved")
    return _reading_page(request, session, reading, [{"kind": "ok", "text": message}])


@router.get("/second-readings/{reading_id}/image")
def reading_image(
    request: Request,
    reading_id: int,
    page: int = 1,
    *,
    user: CorrectorUser,
    session: Db,
    store: Store,
    settings: SettingsDep,
):
    reading = _reading_or_404(session, reading_id, user)
    row = views.reading_page_image(session, reading, page)
    if row is None:
        raise HTTPException(status_code=404, detail="This copy has no such page.")
    look = page_images.PageLook(row.image_sha256, row.rotation, row.skew_degrees)
    session.close()
    return page_image_response(
        request.headers.get("if-none-match"), store, settings.derived_path, look, page_images.DEFAULT_WIDTH
    )
