"""The corrector's flag and the paper's documents, beside the copy view (thin routes).

    POST /marking/copies/{copy_id}/flag                 flag the copy to the office (form)
    GET  /marking/papers/{paper_id}/documents/{kind}    the subject / model answer (PDF)

The documents answer the paper's correctors and coordinators, and the office; anyone else gets
the same 404 as for a paper that does not exist (`access.NOT_YOURS`).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from correction_server.auth.access import NOT_YOURS, ensure_copy_visible
from correction_server.db import read_only
from correction_server.deps import CorrectorUser, Db, StaffUser, Store
from correction_server.marking import views
from correction_server.marking.flags import parse_kind, raise_flag
from correction_server.marking.rules import MarkingRefused, utcnow
from correction_server.models import DocumentKind
from correction_server.office import documents
from correction_server.web.rendering import request_language

router = APIRouter(include_in_schema=False)
NOT_UPLOADED = "The exam office has not uploaded this document of the paper yet."


@router.post("/marking/copies/{copy_id}/flag")
def flag_copy(
    request: Request,
    copy_id: str,
    kind: str = Form(""),
    page: str = Form(""),
    note: str = Form(""),
    *,
    user: CorrectorUser,
    session: Db,
) -> Response:
    # Ownership first: a copy outside his lots gets the same answer whatever the form says.
    ensure_copy_visible(session, user, copy_id)
    try:
        number = int(page) if page.strip() else None
    except ValueError:
        number = -1
    try:
        if number == -1:
            raise MarkingRefused("A page number is 1 or more.", "flag_page_number")
        raise_flag(session, user, copy_id, parse_kind(kind), number, note)
    except MarkingRefused as exc:
        session.rollback()
        if exc.code == "not_found":
            raise HTTPException(status_code=404, detail=NOT_YOURS) from None
        # Back to the copy, saying what to correct (the form is small: nothing typed is lost).
        return Response(
            exc.words(request_language(request)), status_code=422, media_type="text/plain; charset=utf-8"
        )
    # The corrector goes on with the next copy of his to-do; his home says the copy is flagged.
    lots = views.lots_of(read_only(session), user, utcnow(), request_language(request))
    following = next((lot.next_copy for lot in lots if lot.next_copy), None)
    target = f"/marking/copies/{following}" if following else "/marking"
    return RedirectResponse(f"{target}?flagged={copy_id}", status_code=303)


@router.get("/marking/papers/{paper_id}/documents/{kind}")
def paper_document(paper_id: int, kind: str, user: StaffUser, session: Db, store: Store) -> Response:
    read_only(session)
    try:
        wanted = DocumentKind(kind)
    except ValueError:
        raise HTTPException(status_code=404, detail=NOT_YOURS) from None
    if not documents.can_read(session, user, paper_id):
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    document = documents.document_for(session, paper_id, wanted)
    if document is None or not store.has(document.sha256):
        # Said plainly to those who may read it: nothing is uploaded yet.
        raise HTTPException(status_code=404, detail=NOT_UPLOADED)
    sha, name = document.sha256, document.filename
    session.close()
    with store.open(sha) as handle:
        data = handle.read()
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "._- ") or f"{kind}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{safe}"',
            "Cache-Control": "private, no-cache",
            "ETag": f'"{sha}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
