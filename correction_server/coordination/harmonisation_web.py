"""The harmonisation meeting after marking, in the browser: thin routes over
correction_server.coordination.harmonisation_meeting and .harmonisation_rules.

    GET  /coordination/papers/{paper_id}/harmonisation          the meeting, the change form and, when
                                                                the form's fields are in the query, the
                                                                preview (distributions before / after)
    POST /coordination/papers/{paper_id}/harmonisation/meeting  record the meeting (date, attended, minutes)
    POST /coordination/papers/{paper_id}/harmonisation/apply    apply the previewed change, in one transaction
    POST /coordination/papers/{paper_id}/confirm-work           the coordinator confirms a corrector's work

Who: the coordinator of the paper or the exam office (access.ensure_paper_visible). The preview is
a GET (it changes nothing), so the preview page can be reloaded and linked; the changes are POSTs
answered by a redirect to the page (POST-redirect-GET).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from correction_server.audit.actors import actor_of
from correction_server.auth.access import ensure_paper_visible
from correction_server.coordination.harmonisation_meeting import meeting_of, record_meeting
from correction_server.coordination.harmonisation_rules import RuleIn, apply_rule, preview
from correction_server.coordination.people import correctors_of_paper, display_name
from correction_server.coordination.refusals import in_words
from correction_server.coordination.work_done import WorkRefused, confirm_work
from correction_server.deps import Db, SupervisorUser
from correction_server.i18n import translate
from correction_server.marking.rules import fmt
from correction_server.models import Paper, User, WorkConfirmation
from correction_server.web.rendering import render, request_language
from massicot_core.errors import UserError

router = APIRouter(include_in_schema=False)

RULE_FIELDS = ("kind", "corrector_id", "delta", "copy_id", "new_mark", "reason")


def _text(form, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def rule_of(fields) -> RuleIn:
    corrector = _text(fields, "corrector_id")
    return RuleIn(
        kind=_text(fields, "kind"),
        reason=_text(fields, "reason"),
        delta=_text(fields, "delta"),
        corrector_id=int(corrector) if corrector.isdigit() else None,
        copy_id=_text(fields, "copy_id"),
        new_mark=_text(fields, "new_mark"),
    )


def _page(
    request: Request,
    session: Session,
    paper_id: int,
    *,
    fields=None,
    messages: list[dict] | None = None,
    status: int = 200,
) -> Response:
    lang = request_language(request)
    messages = list(messages or [])
    seen = None
    if fields is not None and _text(fields, "kind"):
        try:
            seen = preview(session, paper_id, rule_of(fields))
        except UserError as exc:
            messages.append({"kind": "error", "text": in_words(exc, lang)})
            status = 409
    confirmed = {
        w.corrector_id: w
        for w in session.query(WorkConfirmation).filter(WorkConfirmation.paper_id == paper_id)
    }
    context = {
        "paper": session.get(Paper, paper_id),
        "meeting": meeting_of(session, paper_id),
        "correctors": correctors_of_paper(session, paper_id),
        "confirmed": confirmed,
        "fields": {k: _text(fields, k) for k in RULE_FIELDS} if fields is not None else {},
        "seen": seen,
        "histogram": seen.histogram_svg(translate(lang, "harmonisation.histogram")) if seen else "",
        "means": seen.means_svg(
            translate(lang, "harmonisation.means_title"), translate(lang, "harmonisation.means_desc")
        )
        if seen and seen.after.tests
        else "",
        "fmt": fmt,
        "num": lambda x: f"{x:.2f}".replace(".", ",") if lang == "fr" else f"{x:.2f}",
        "today": date.today().isoformat(),
        "messages": messages,
    }
    return render(request, "coord_harmonisation.html", context, status_code=status)


@router.get("/coordination/papers/{paper_id}/harmonisation", response_class=HTMLResponse)
def harmonisation_page(request: Request, paper_id: int, user: SupervisorUser, session: Db):
    ensure_paper_visible(session, user, paper_id)
    query = request.query_params
    messages = []
    if query.get("applied"):
        text = translate(request_language(request), "harmonisation.applied", n=query.get("applied"))
        messages.append({"kind": "ok", "text": text})
    elif query.get("done"):
        messages.append({"kind": "ok", "text": translate(request_language(request), "closing.done")})
    return _page(request, session, paper_id, fields=query, messages=messages)


def _back(paper_id: int, **query: object) -> RedirectResponse:
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"/coordination/papers/{paper_id}/harmonisation{suffix}", status_code=303)


def _refused(request: Request, session: Session, paper_id: int, exc: UserError, fields=None) -> Response:
    session.rollback()
    text = in_words(exc, request_language(request))
    return _page(
        request, session, paper_id, fields=fields, messages=[{"kind": "error", "text": text}], status=409
    )


@router.post("/coordination/papers/{paper_id}/harmonisation/meeting", response_class=HTMLResponse)
async def meeting(request: Request, paper_id: int, user: SupervisorUser, session: Db):
    ensure_paper_visible(session, user, paper_id)
    form = await request.form()
    try:
        held_on = date.fromisoformat(_text(form, "on"))
    except ValueError:
        held_on = None
    try:
        record_meeting(
            session,
            paper_id,
            held_on,
            _text(form, "attendees"),
            _text(form, "minutes"),
            actor_of(user),
            _who(user),
        )
        session.commit()
    except UserError as exc:
        return _refused(request, session, paper_id, exc)
    return _back(paper_id, done=1)


@router.post("/coordination/papers/{paper_id}/harmonisation/apply", response_class=HTMLResponse)
async def apply(request: Request, paper_id: int, user: SupervisorUser, session: Db):
    ensure_paper_visible(session, user, paper_id)
    form = await request.form()
    try:
        rule = apply_rule(session, paper_id, rule_of(form), actor_of(user), _who(user))
        changed = rule.changed
        session.commit()
    except UserError as exc:
        return _refused(request, session, paper_id, exc, fields=form)
    return _back(paper_id, applied=changed)


@router.post("/coordination/papers/{paper_id}/confirm-work", response_class=HTMLResponse)
async def coordinator_confirms(request: Request, paper_id: int, user: SupervisorUser, session: Db):
    ensure_paper_visible(session, user, paper_id)
    form = await request.form()
    corrector = _text(form, "corrector_id")
    try:
        if not corrector.isdigit():
            raise WorkRefused("jury.err.no_corrector")
        confirm_work(session, paper_id, int(corrector), "coordinator", _who(user), actor_of(user))
        session.commit()
    except UserError as exc:
        return _refused(request, session, paper_id, exc)
    return _back(paper_id, done=1)


def _who(user: User) -> str:
    return display_name(user)
