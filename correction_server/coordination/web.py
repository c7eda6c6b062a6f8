"""The coordinator's pages (and the second reader's): thin routes over correction_server.coordination.

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

from decimal import Decimal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.auth.access import ensure_paper_visible, papers_of
from correction_server.coordination import plots
from correction_server.coordination import service as coordination
from correction_server.deps import CorrectorUser, Db, SettingsDep, Store, SupervisorUser
from correction_server.marking import comments
from correction_server.marking import service as marking
from correction_server.marking.scheme import scheme_state
from correction_server.models import Copy, Page, Paper, ReadingStatus, Role, User
from correction_server.models.dispatch import CorrectionLot
from correction_server.pages import images as page_images
from correction_server.pages.serving import page_image_response
from correction_server.web.rendering import render, request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)


def _papers_for(session: Session, user: User) -> list[Paper]:
    query = select(Paper).order_by(Paper.code)
    if user.role != Role.OFFICE:
        query = query.where(Paper.id.in_(papers_of(session, user) or {-1}))
    return list(session.scalars(query))


@router.get("/coordination", response_class=HTMLResponse)
def index(request: Request, user: SupervisorUser, session: Db):
    papers = _papers_for(session, user)
    progress = {p.id: coordination.paper_progress(session, p.id) for p in papers}
    return render(request, "coord_index.html", {"papers": papers, "progress": progress})


def paper_context(session: Session, paper_id: int, lang: str) -> dict[str, object]:
    progress = coordination.paper_progress(session, paper_id)
    dist = coordination.distributions(session, paper_id)
    result = dist.result
    rows = [
        plots.MeanRow(c.name, c.test.n, c.test.mean, c.test.band_low, c.test.band_high, c.test.flagged)
        for c in dist.correctors
    ]
    title = "Moyenne de chaque correcteur" if lang == "fr" else "Each corrector's average"
    desc = (
        "Point : moyenne du correcteur ; bande grise : où tombe par hasard la moyenne d'un lot "
        "de cette taille ; ligne pointillée : moyenne de l'ensemble."
        if lang == "fr"
        else "Dot: the corrector's average; grey band: where a lot of that size averages by chance; "
        "dashed line: the pool's average."
    )
    chart = plots.means_chart(rows, result.pool_mean, title, desc) if rows else ""
    sparks = {
        c.corrector_id: plots.histogram(c.marks, dist.pool_marks, f"{c.name}: {len(c.marks)}", c.test.flagged)
        for c in dist.correctors
    }
    sentences = {
        c.corrector_id: coordination.flag_sentence(c, result.pool_mean, lang) for c in dist.correctors
    }
    lots = session.execute(
        select(CorrectionLot.id, CorrectionLot.number, CorrectionLot.corrector_id)
        .where(CorrectionLot.paper_id == paper_id)
        .order_by(CorrectionLot.number)
    ).all()
    names = {c.corrector_id: c.name for c in progress.correctors}
    return {
        "paper": progress,
        "progress": progress,
        "dist": dist,
        "chart": chart,
        "chart_caption": desc,
        "sparks": sparks,
        "sentences": sentences,
        "lots": [(lot_id, number, names.get(cid, "?")) for lot_id, number, cid in lots],
        "correctors": coordination.correctors_of_paper(session, paper_id),
        "readings": coordination.readings_of_paper(session, paper_id),
        "fmt": marking.fmt,
        "fmt_num": number_formatter(lang),
        # The barème and its lock, and the shared bank's size (correction_server.web.standardisation).
        "scheme_state": scheme_state(session, paper_id),
        "shared_comments": comments.count_shared(session, paper_id),
    }


def number_formatter(lang: str):
    """One decimal, with the French decimal comma on French pages; a dash for no value."""

    def fmt_num(value: float | None) -> str:
        if value is None or value != value:  # None or NaN
            return "–"
        text = f"{value:.1f}"
        return text.replace(".", ",") if lang == "fr" else text

    return fmt_num


@router.get("/coordination/papers/{paper_id}", response_class=HTMLResponse)
def paper_page(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    ensure_paper_visible(session, user, paper_id)
    return render(request, "coord_paper.html", paper_context(session, paper_id, request_language(request)))


@router.get("/coordination/papers/{paper_id}/progress", response_class=HTMLResponse)
def progress_block(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    ensure_paper_visible(session, user, paper_id)
    progress = coordination.paper_progress(session, paper_id)
    return render(request, "coord_progress.html", {"progress": progress})


def _after(request: Request, session: Session, paper_id: int, messages: list[dict], status: int) -> Response:
    context = paper_context(session, paper_id, request_language(request)) | {"messages": messages}
    return render(request, "coord_paper.html", context, status_code=status)


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
        outcome = coordination.reassign(
            session,
            paper_id,
            to_corrector_ids=targets,
            actor=coordination.actor_of(user),
            by_name=user.display_name or user.username,
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
            [{"kind": "error", "text": "Choose the correctors and the lot from the lists."}],
            400,
        )
    except UserError as exc:
        session.rollback()
        return _after(request, session, paper_id, [{"kind": "error", "text": str(exc)}], 409)
    from correction_server.i18n import translate

    text = translate(lang, "coord.reassigned", moved=outcome.moved_count, kept=len(outcome.kept_marked))
    return _after(request, session, paper_id, [{"kind": "ok", "text": text}], 200)


@router.post("/coordination/papers/{paper_id}/second-readings", response_class=HTMLResponse)
async def ask_second_reading(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    form = await _form(request)
    ensure_paper_visible(session, user, paper_id)
    from correction_server.i18n import translate

    try:
        copy = session.get(Copy, _one(form, "copy_id").upper())
        if copy is None or copy.paper_id != paper_id:
            raise coordination.CoordinationRefused(
                f"Copy {_one(form, 'copy_id')!r} is not a copy of this paper."
            )
        reading = coordination.request_second_reading(
            session,
            copy.id,
            int(_one(form, "reader_id") or 0),
            coordination.actor_of(user),
            _one(form, "reason"),
        )
        session.commit()
    except (UserError, ValueError) as exc:
        session.rollback()
        return _after(request, session, paper_id, [{"kind": "error", "text": str(exc)}], 409)
    text = translate(request_language(request), "coord.reading_asked", copy=reading.copy_id)
    return _after(request, session, paper_id, [{"kind": "ok", "text": text}], 200)


@router.post("/coordination/papers/{paper_id}/decide", response_class=HTMLResponse)
async def decide(
    request: Request, paper_id: int, user: SupervisorUser, session: Db
):
    form = await _form(request)
    ensure_paper_visible(session, user, paper_id)
    from correction_server.i18n import translate

    try:
        reading = coordination.decide_second_reading(
            session,
            int(_one(form, "reading_id") or 0),
            paper_id,
            coordination.actor_of(user),
            _one(form, "choice"),
            _one(form, "mark"),
            _one(form, "reason"),
        )
        session.commit()
    except (UserError, ValueError) as exc:
        session.rollback()
        return _after(request, session, paper_id, [{"kind": "error", "text": str(exc)}], 409)
    text = translate(
        request_language(request),
        "coord.decided",
        copy=reading.copy_id,
        mark=marking.fmt(reading.decided_mark_20),
    )
    return _after(request, session, paper_id, [{"kind": "ok", "text": text}], 200)


# ---------------------------------------------------------------- the second reader


@router.get("/second-readings", response_class=HTMLResponse)
def my_readings(request: Request, user: CorrectorUser, session: Db):
    readings = coordination.readings_of_reader(session, user)
    codes = {p.id: p.code for p in session.scalars(select(Paper))}
    return render(request, "second_readings.html", {"readings": readings, "codes": codes})


def _reading_or_404(session: Session, reading_id: int, user: User):
    try:
        return coordination.reading_for_reader(session, reading_id, user)
    except coordination.CoordinationRefused:
        raise HTTPException(status_code=404, detail="Not found, or not yours.") from None


def _reading_page(
    request: Request, session: Session, reading, messages=(), status=200, typed=None
) -> Response:
    scheme = marking.load_scheme(session, reading.paper_id)
    pages = session.scalars(select(Page).where(Page.copy_id == reading.copy_id).order_by(Page.position)).all()
    paper = session.get(Paper, reading.paper_id)
    values = (
        typed
        if typed is not None
        else {int(k): marking.fmt(Decimal(v)) for k, v in (reading.marks or {}).items()}
    )
    return render(
        request,
        "second_reading.html",
        {
            "reading": reading,
            "paper": paper,
            "scheme": scheme,
            "pages": pages,
            "values": values,
            "fmt": marking.fmt,
            "messages": list(messages),
            "open": reading.status != ReadingStatus.DECIDED,
        },
        status_code=status,
    )


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
    from correction_server.i18n import translate

    try:
        coordination.save_second_reading(session, reading.id, user, marks, _one(form, "appreciation"))
        session.commit()
    except UserError as exc:
        session.rollback()
        reading = _reading_or_404(session, reading_id, user)
        return _reading_page(request, session, reading, [{"kind": "error", "text": str(exc)}], 422, marks)
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
    row = session.scalar(
        select(Page)
        .where(Page.copy_id == reading.copy_id)
        .order_by(Page.position)
        .offset(max(page - 1, 0))
        .limit(1)
    )
    if row is None:
        raise HTTPException(status_code=404, detail="This copy has no such page.")
    look = page_images.PageLook(row.image_sha256, row.rotation, row.skew_degrees)
    session.close()
    return page_image_response(
        request.headers.get("if-none-match"), store, settings.derived_path, look, page_images.DEFAULT_WIDTH
    )
