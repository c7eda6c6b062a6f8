"""The exam office's closing pages: thin routes over correction_server.closing. Office only.

GET  /office/closing                                   papers, holds, payment
GET  /office/closing/papers/{paper_id}                 reconciliation, differences, jury, publication
GET  /office/closing/papers/{paper_id}/export.csv      jury export (refused while copies are unaccounted for)
GET  /office/closing/papers/{paper_id}/export.xlsx
GET  /office/closing/papers/{paper_id}/consultation.pdf?registration=...
POST /office/closing/papers/{paper_id}/missing         declare a copy missing (registration, reason)
POST /office/closing/papers/{paper_id}/jury            the jury's mark (registration, mark, reason, by)
POST /office/closing/papers/{paper_id}/publish         results published on (date)
POST /office/holds                                     hold a candidate's results (registration, reason,
                                                       the report of suspected fraud and its scan)
POST /office/holds/release                             release it (registration, reason)
GET  /office/payment.csv                               copies marked per corrector and paper
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from correction_server import i18n
from correction_server.audit.actors import actor_of
from correction_server.auth.access import NOT_YOURS
from correction_server.closing.attachments import Attachment
from correction_server.closing.consultation import consultation_pdf
from correction_server.closing.export import export_marks
from correction_server.closing.holds import ReportIn, place_hold, release_hold
from correction_server.closing.jury import record_jury_decision
from correction_server.closing.jury_views import jury_context
from correction_server.closing.missing import declare_missing as declare_copy_missing
from correction_server.closing.payment import payment_csv
from correction_server.closing.publication import publish_results
from correction_server.closing.views import (
    PaperClosingView,
    as_context,
    closing_home_view,
    has_paper,
    paper_closing_view,
)
from correction_server.coordination.people import display_name
from correction_server.deps import Db, OfficeUser, SettingsDep, Store
from correction_server.models import User
from correction_server.web.rendering import render, request_language
from massicot_core.errors import Refused, UserError

router = APIRouter(include_in_schema=False)


async def attachment_of(upload: UploadFile | None) -> Attachment | None:
    """An uploaded file as an attachment; None when the field was left empty."""
    if upload is None or not upload.filename:
        return None
    return Attachment(upload.filename, await upload.read())


def _said(exc: UserError, lang: str) -> str:
    """A refusal in the reader's language (an error without catalogue words as it is)."""
    return exc.words(lang) if isinstance(exc, Refused) else str(exc)


def _known_paper(session: Session, paper_id: int) -> None:
    if not has_paper(session, paper_id):
        raise HTTPException(status_code=404, detail=NOT_YOURS)


def _paper_view(session: Session, paper_id: int) -> PaperClosingView:
    view = paper_closing_view(session, paper_id)
    if view is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return view


@router.get("/office/closing", response_class=HTMLResponse)
def closing_home(request: Request, _user: OfficeUser, session: Db):
    return render(request, "office_closing.html", as_context(closing_home_view(session)))


def _paper_context(session: Session, paper_id: int) -> dict[str, object]:
    return as_context(_paper_view(session, paper_id)) | jury_context(session, paper_id)


@router.get("/office/closing/papers/{paper_id}", response_class=HTMLResponse)
def paper_page(request: Request, paper_id: int, _user: OfficeUser, session: Db):
    return render(request, "office_paper.html", _paper_context(session, paper_id))


def _messages(lang: str, error: str | None) -> dict[str, object]:
    text = error or i18n.translate(lang, "closing.done")
    return {"messages": [{"kind": "error" if error else "ok", "text": text}]}


def _after(request: Request, session: Session, paper_id: int, error: str | None) -> Response:
    context = _paper_context(session, paper_id) | _messages(request_language(request), error)
    return render(request, "office_paper.html", context, status_code=409 if error else 200)


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _refused_download(session: Session, request: Request, exc: UserError) -> Response:
    session.rollback()
    text = _said(exc, request_language(request))
    return Response(text, status_code=409, media_type="text/plain; charset=utf-8")


def _export(request: Request, session: Session, paper_id: int, kind: str, user: User) -> Response:
    _known_paper(session, paper_id)
    try:
        export = export_marks(session, paper_id, kind, actor_of(user), display_name(user))
        session.commit()  # the export is in the audit log before the file leaves
    except UserError as exc:
        return _refused_download(session, request, exc)
    return _download(export.data, export.media_type, export.filename)


@router.get("/office/closing/papers/{paper_id}/export.csv")
def export_csv(request: Request, paper_id: int, user: OfficeUser, session: Db):
    return _export(request, session, paper_id, "csv", user)


@router.get("/office/closing/papers/{paper_id}/export.xlsx")
def export_xlsx(request: Request, paper_id: int, user: OfficeUser, session: Db):
    return _export(request, session, paper_id, "xlsx", user)


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
    _known_paper(session, paper_id)
    try:
        data = consultation_pdf(
            session, store, settings.derived_path, paper_id, registration, actor_of(user), display_name(user)
        )
        session.commit()
    except UserError as exc:
        return _refused_download(session, request, exc)
    return _download(data, "application/pdf", f"copie-{registration.strip().upper()}.pdf")


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
    _known_paper(session, paper_id)
    refusal = _committed(
        request,
        session,
        lambda: declare_copy_missing(
            session, paper_id, registration, reason, actor_of(user), display_name(user)
        ),
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
    material_error: str = Form(""),
    found_by: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    _known_paper(session, paper_id)
    refusal = _committed(
        request,
        session,
        lambda: record_jury_decision(
            session,
            paper_id,
            registration,
            mark,
            reason,
            actor_of(user),
            by or display_name(user),
            material_error=material_error == "yes",
            material_error_by=found_by,
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
    _known_paper(session, paper_id)
    try:
        day = date.fromisoformat(on.strip())
    except ValueError:
        error = i18n.translate(request_language(request), "closing.err.publish_date")
        return _after(request, session, paper_id, error)
    noon = datetime.combine(day, time(12, 0), tzinfo=UTC)
    refusal = _committed(
        request, session, lambda: publish_results(session, paper_id, noon, actor_of(user), display_name(user))
    )
    return _after(request, session, paper_id, refusal)


def _holds_page(request: Request, session: Session, error: str | None) -> Response:
    context = as_context(closing_home_view(session)) | _messages(request_language(request), error)
    return render(request, "office_closing.html", context, status_code=409 if error else 200)


@router.post("/office/holds", response_class=HTMLResponse)
async def hold(
    request: Request,
    registration: str = Form(""),
    reason: str = Form(""),
    report_by: str = Form(""),
    report_at: str = Form(""),
    seized: str = Form(""),
    paper_id: str = Form(""),
    report_file: UploadFile | None = File(None),
    *,
    user: OfficeUser,
    session: Db,
    store: Store,
):
    """A hold with its report of suspected fraud (who drew it up, when, what was seized, its scan)."""
    attachment = await attachment_of(report_file)
    report = None
    if report_by.strip() or report_at.strip() or attachment or seized.strip():
        written_at = _moment(report_at)
        report = ReportIn(
            report_by,
            written_at,
            seized,
            int(paper_id) if paper_id.strip().isdigit() else None,
            attachment,
        )
    refusal = _committed(
        request,
        session,
        lambda: place_hold(
            session, registration, reason, actor_of(user), display_name(user), report=report, store=store
        ),
    )
    return _holds_page(request, session, refusal)


def _moment(text: str) -> datetime | None:
    """A date and time typed in the page (datetime-local: no zone, read as UTC), or None."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        request,
        session,
        lambda: release_hold(session, registration, reason, actor_of(user), display_name(user)),
    )
    return _holds_page(request, session, refusal)


def _committed(request: Request, session: Session, change: Callable[[], object]) -> str | None:
    """Run an office action in one transaction; its refusal in the reader's words, or None once
    committed."""
    try:
        change()
        session.commit()
    except UserError as exc:
        session.rollback()
        return _said(exc, request_language(request))
    return None


@router.get("/office/payment.csv")
def payment(user: OfficeUser, session: Db):
    data = payment_csv(session, actor_of(user), display_name(user))
    session.commit()
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="paiement-correcteurs.csv"'},
    )
