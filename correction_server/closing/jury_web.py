"""The office's pages for the jury rules: thin routes over correction_server.closing. Office only.

GET  /office/closing/papers/{paper_id}/export-anonymised.csv   copy ids, marks and statistics
GET  /office/closing/papers/{paper_id}/export-anonymised.xlsx
POST /office/closing/papers/{paper_id}/absence        an AB copy's absence justified (evidence, file)
GET  /office/closing/papers/{paper_id}/replacement.csv the replacement session's list
POST /office/closing/papers/{paper_id}/void           a paper void after a fraud procedure
POST /office/closing/papers/{paper_id}/jury-meeting   the jury's deliberation, or its reconvening
POST /office/closing/papers/{paper_id}/harmonisation  the harmonisation meeting (the export's gate)
POST /office/closing/papers/{paper_id}/pay-level      the paper's exam level (its rate)
POST /office/closing/papers/{paper_id}/pay-rates      the session's rates and the second readings' weight
POST /office/closing/papers/{paper_id}/confirm-work   the head of centre's confirmation of a corrector's work

Every POST answers with the paper's closing page (its message, 409 on a refusal), as the other
closing forms do.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from correction_server import i18n
from correction_server.audit.actors import actor_of
from correction_server.closing.absence import justify_absence, replacement_csv
from correction_server.closing.anonymised import export_anonymised
from correction_server.closing.deliberation import record_jury_meeting
from correction_server.closing.fraud import declare_void
from correction_server.closing.payment import configure_rates, confirm_work, set_paper_level
from correction_server.closing.web import (
    _after,
    _committed,
    _download,
    _known_paper,
    _refused_download,
    attachment_of,
)
from correction_server.coordination.harmonisation_meeting import record_meeting
from correction_server.coordination.people import display_name
from correction_server.deps import Db, OfficeUser, Store
from correction_server.web.rendering import request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)


def day_of(text: str) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _anonymised(request: Request, session, paper_id: int, kind: str, user) -> Response:
    _known_paper(session, paper_id)
    try:
        export = export_anonymised(session, paper_id, kind, actor_of(user), display_name(user))
        session.commit()
    except UserError as exc:
        return _refused_download(session, request, exc)
    return _download(export.data, export.media_type, export.filename)


@router.get("/office/closing/papers/{paper_id}/export-anonymised.csv")
def anonymised_csv(request: Request, paper_id: int, user: OfficeUser, session: Db):
    return _anonymised(request, session, paper_id, "csv", user)


@router.get("/office/closing/papers/{paper_id}/export-anonymised.xlsx")
def anonymised_xlsx(request: Request, paper_id: int, user: OfficeUser, session: Db):
    return _anonymised(request, session, paper_id, "xlsx", user)


@router.post("/office/closing/papers/{paper_id}/absence", response_class=HTMLResponse)
async def absence(
    request: Request,
    paper_id: int,
    registration: str = Form(""),
    evidence: str = Form(""),
    file: UploadFile | None = File(None),
    *,
    user: OfficeUser,
    session: Db,
    store: Store,
):
    _known_paper(session, paper_id)
    attachment = await attachment_of(file)
    refusal = _committed(
        request,
        session,
        lambda: justify_absence(
            session,
            paper_id,
            registration,
            evidence,
            actor_of(user),
            display_name(user),
            attachment=attachment,
            store=store,
        ),
    )
    return _after(request, session, paper_id, refusal)


@router.get("/office/closing/papers/{paper_id}/replacement.csv")
def replacement(paper_id: int, user: OfficeUser, session: Db):
    _known_paper(session, paper_id)
    data = replacement_csv(session, actor_of(user), display_name(user), paper_id)
    session.commit()
    return _download(data, "text/csv; charset=utf-8", f"session-remplacement-{paper_id}.csv")


@router.post("/office/closing/papers/{paper_id}/void", response_class=HTMLResponse)
def void(
    request: Request,
    paper_id: int,
    registration: str = Form(""),
    decision: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    _known_paper(session, paper_id)
    refusal = _committed(
        request,
        session,
        lambda: declare_void(session, registration, paper_id, decision, actor_of(user), display_name(user)),
    )
    return _after(request, session, paper_id, refusal)


def _dated(request: Request, text: str, key: str) -> tuple[date | None, str | None]:
    day = day_of(text)
    return day, None if day else i18n.translate(request_language(request), key)


@router.post("/office/closing/papers/{paper_id}/jury-meeting", response_class=HTMLResponse)
def jury_meeting(
    request: Request,
    paper_id: int,
    kind: str = Form(""),
    on: str = Form(""),
    minutes: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    _known_paper(session, paper_id)
    day, refusal = _dated(request, on, "jury.err.meeting_date")
    if day is not None:
        refusal = _committed(
            request,
            session,
            lambda: record_jury_meeting(
                session, paper_id, kind, day, minutes, actor_of(user), display_name(user)
            ),
        )
    return _after(request, session, paper_id, refusal)


@router.post("/office/closing/papers/{paper_id}/harmonisation", response_class=HTMLResponse)
def harmonisation(
    request: Request,
    paper_id: int,
    on: str = Form(""),
    attendees: str = Form(""),
    minutes: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    _known_paper(session, paper_id)
    refusal = _committed(
        request,
        session,
        lambda: record_meeting(
            session, paper_id, day_of(on), attendees, minutes, actor_of(user), display_name(user)
        ),
    )
    return _after(request, session, paper_id, refusal)


@router.post("/office/closing/papers/{paper_id}/pay-level", response_class=HTMLResponse)
def pay_level(request: Request, paper_id: int, level: str = Form(""), *, user: OfficeUser, session: Db):
    _known_paper(session, paper_id)
    refusal = _committed(
        request,
        session,
        lambda: set_paper_level(session, paper_id, level, actor_of(user), display_name(user)),
    )
    return _after(request, session, paper_id, refusal)


@router.post("/office/closing/papers/{paper_id}/pay-rates", response_class=HTMLResponse)
def pay_rates(
    request: Request,
    paper_id: int,
    bac: str = Form(""),
    iv: str = Form(""),
    v: str = Form(""),
    second_reading: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    from correction_server.models import Paper

    _known_paper(session, paper_id)
    rates = {k: x for k, x in (("bac", bac), ("iv", iv), ("v", v)) if x.strip()}
    session_id = session.get(Paper, paper_id).session_id
    refusal = _committed(
        request,
        session,
        lambda: configure_rates(
            session, session_id, rates, second_reading.strip() or None, actor_of(user), display_name(user)
        ),
    )
    return _after(request, session, paper_id, refusal)


@router.post("/office/closing/papers/{paper_id}/confirm-work", response_class=HTMLResponse)
def office_confirm_work(
    request: Request,
    paper_id: int,
    corrector_id: str = Form(""),
    by: str = Form(""),
    *,
    user: OfficeUser,
    session: Db,
):
    """The office enters the head of centre's confirmation (he has no account of his own)."""
    _known_paper(session, paper_id)
    if not corrector_id.strip().isdigit():
        return _after(
            request, session, paper_id, i18n.translate(request_language(request), "jury.err.no_corrector")
        )
    refusal = _committed(
        request,
        session,
        lambda: confirm_work(session, paper_id, int(corrector_id), "head_of_centre", by, actor_of(user)),
    )
    return _after(request, session, paper_id, refusal)
