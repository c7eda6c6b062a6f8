"""The exam office's closing pages: thin routes over correction_server.closing. Office only.

GET  /office/closing                                   papers, holds, payment
GET  /office/closing/papers/{paper_id}                 reconciliation, differences, jury, publication
GET  /office/closing/papers/{paper_id}/export.csv      jury export (refused while copies are unaccounted for)
GET  /office/closing/papers/{paper_id}/export.xlsx
GET  /office/closing/papers/{paper_id}/consultation.pdf?registration=...
POST /office/closing/papers/{paper_id}/missing         declare a copy missing (registration, reason)
POST /office/closing/papers/{paper_id}/jury            the jury's mark (registration, mark, reason, by)
POST /office/closing/papers/{paper_id}/publish         results published on (date)
POST /office/holds                                     hold a candidate's results (registration, reason)
POST /office/holds/release                             release it (registration, reason)
GET  /office/payment.csv                               copies marked per corrector and paper
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server import i18n
from correction_server.audit.log import Actor
from correction_server.closing import service as closing
from correction_server.deps import Db, OfficeUser, SettingsDep, Store
from correction_server.models import Paper, ResultsPublication, User
from correction_server.web.rendering import render, request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)


def _actor(user: User) -> Actor:
    return Actor(user.id, user.role.value)


def _name(user: User) -> str:
    return user.display_name or user.username


def _paper(session: Session, paper_id: int) -> Paper:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise HTTPException(status_code=404, detail="Not found, or not yours.")
    return paper


@router.get("/office/closing", response_class=HTMLResponse)
def closing_home(request: Request, _user: OfficeUser, session: Db):
    return render(request, "office_closing.html", _home_context(session))


def _paper_context(session: Session, paper_id: int) -> dict[str, object]:
    recon = closing.reconcile(session, paper_id)
    published = session.scalar(select(ResultsPublication).where(ResultsPublication.paper_id == paper_id))
    return {
        "recon": recon,
        "published": published,
        "until": closing.one_year_after(published.published_at) if published else None,
        "today": date.today().isoformat(),
    }


@router.get("/office/closing/papers/{paper_id}", response_class=HTMLResponse)
def paper_page(
    request: Request, paper_id: int, _user: OfficeUser, session: Db
):
    _paper(session, paper_id)
    return render(request, "office_paper.html", _paper_context(session, paper_id))


def _after(request: Request, session: Session, paper_id: int, error: str | None) -> Response:
    text = error or i18n.translate(request_language(request), "closing.done")
    context = _paper_context(session, paper_id) | {
        "messages": [{"kind": "error" if error else "ok", "text": text}]
    }
    return render(request, "office_paper.html", context, status_code=409 if error else 200)


def _export(session: Session, paper_id: int, kind: str, user: User) -> Response:
    _paper(session, paper_id)
    try:
        export = closing.export_marks(session, paper_id, kind, _actor(user), _name(user))
        session.commit()  # the export is in the audit log before the file leaves
    except UserError as exc:
        session.rollback()
        return Response(str(exc), status_code=409, media_type="text/plain; charset=utf-8")
    return Response(
        export.data,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/office/closing/papers/{paper_id}/export.csv")
def export_csv(paper_id: int, user: OfficeUser, session: Db):
    return _export(session, paper_id, "csv", user)


@router.get("/office/closing/papers/{paper_id}/export.xlsx")
def export_xlsx(paper_id: int, user: OfficeUser, session: Db):
    return _export(session, paper_id, "xlsx", user)


@router.get("/office/closing/papers/{paper_id}/consultation.pdf")
def consultation(
    request: Request,
    paper_id: int,
    registration: str = "",
    *,
    user: OfficeUser,
    session: Db,
    store: Store,
    settings: SettingsDep,
):
    _paper(session, paper_id)
    try:
        data = closing.consultation_pdf(
            session,
            store,
            settings.derived_path,
            paper_id,
            registration,
            _actor(user),
            _name(user),
        )
        session.commit()
    except UserError as exc:
        session.rollback()
        return Response(str(exc), status_code=409, media_type="text/plain; charset=utf-8")
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="copie-{registration.strip().upper()}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/office/closing/papers/{paper_id}/missing", response_class=HTMLResponse)
def declare_missing(
    request: Request,
    paper_id: int,
    registration: str = Form(""),
    reason: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    _paper(session, paper_id)
    refusal = _committed(
        session,
        lambda: closing.declare_missing(session, paper_id, registration, reason, _actor(user), _name(user)),
    )
    return _after(request, session, paper_id, refusal)


@router.post("/office/closing/papers/{paper_id}/jury", response_class=HTMLResponse)
def jury_mark(
    request: Request,
    paper_id: int,
    registration: str = Form(""),
    mark: str = Form(""),
    reason: str = Form(""),
    by: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    _paper(session, paper_id)
    refusal = _committed(
        session,
        lambda: closing.record_jury_decision(
            session, paper_id, registration, mark, reason, _actor(user), by or _name(user)
        ),
    )
    return _after(request, session, paper_id, refusal)


@router.post("/office/closing/papers/{paper_id}/publish", response_class=HTMLResponse)
def publish(
    request: Request,
    paper_id: int,
    on: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    _paper(session, paper_id)
    try:
        day = date.fromisoformat(on.strip())
    except ValueError:
        return _after(request, session, paper_id, "Give the publication date as YYYY-MM-DD.")
    noon = datetime.combine(day, time(12, 0), tzinfo=UTC)
    refusal = _committed(
        session, lambda: closing.publish_results(session, paper_id, noon, _actor(user), _name(user))
    )
    return _after(request, session, paper_id, refusal)


def _home_context(session: Session) -> dict[str, object]:
    papers = list(session.scalars(select(Paper).order_by(Paper.code)))
    return {
        "papers": papers,
        "recons": {p.id: closing.reconcile(session, p.id) for p in papers},
        "holds": closing.open_holds(session),
        "payment": closing.payment_lines(session),
    }


def _holds_page(request: Request, session: Session, error: str | None) -> Response:
    text = error or i18n.translate(request_language(request), "closing.done")
    context = _home_context(session) | {"messages": [{"kind": "error" if error else "ok", "text": text}]}
    return render(request, "office_closing.html", context, status_code=409 if error else 200)


@router.post("/office/holds", response_class=HTMLResponse)
def hold(
    request: Request,
    registration: str = Form(""),
    reason: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    refusal = _committed(
        session, lambda: closing.place_hold(session, registration, reason, _actor(user), _name(user))
    )
    return _holds_page(request, session, refusal)


@router.post("/office/holds/release", response_class=HTMLResponse)
def release(
    request: Request,
    registration: str = Form(""),
    reason: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    refusal = _committed(
        session, lambda: closing.release_hold(session, registration, reason, _actor(user), _name(user))
    )
    return _holds_page(request, session, refusal)


def _committed(session: Session, change: Callable[[], object]) -> str | None:
    """Run an office action in one transaction; its refusal, in plain words, or None once committed."""
    try:
        change()
        session.commit()
    except UserError as exc:
        session.rollback()
        return str(exc)
    return None


@router.get("/office/payment.csv")
def payment(user: OfficeUser, session: Db):
    data = closing.payment_csv(session, _actor(user), _name(user))
    session.commit()
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="paiement-correcteurs.csv"'},
    )
