"""The corrector's pages (home, copy view) and the JSON API the copy view autosaves through.

Thin routes: access checks from correction_server.auth.access, what the pages show from
correction_server.marking.views, saving in correction_server.marking.saving, the comment bank in
correction_server.marking.comments, the image answer from correction_server.pages.serving.

    GET  /marking                              the corrector's home: lots, progress, deadline
    GET  /marking/copies/{copy_id}             the copy view
    GET  /marking/pages/{page_id}/image?w=     a page, upright, width-limited JPEG (cached)
    GET  /api/marking/copies/{copy_id}         the marking state (JSON)
    PUT  /api/marking/copies/{copy_id}         one autosave (JSON, carries the version)
    GET  /api/marking/papers/{paper_id}/comments   the comment bank
    POST /api/marking/papers/{paper_id}/comments   add to it
    PUT  /api/marking/comments/{comment_id}        new wording (every use follows)
    DELETE /api/marking/comments/{comment_id}      take it out of the bank
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from correction_server.auth.access import NOT_YOURS, can_see_copy, ensure_copy_visible
from correction_server.db import read_only
from correction_server.deps import BankUser, CorrectorUser, Db, SettingsDep, StaffUser, Store
from correction_server.marking import comments, harmonised, views
from correction_server.marking.rules import allowed_special, fmt, utcnow
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import Role
from correction_server.pages import images as page_images
from correction_server.pages.serving import page_image_response
from correction_server.web.rendering import render, request_language

router = APIRouter()


# ---------------------------------------------------------------- pages


@router.get("/marking")
def home(request: Request, user: CorrectorUser, session: Db):
    lots = views.lots_of(read_only(session), user, utcnow(), request_language(request))
    changed = harmonised.changes_for_corrector(session, user.id)
    session.close()
    return render(request, "marking_home.html", {"lots": lots, "harmonised": changed, "fmt": fmt})


@router.get("/marking/copies/{copy_id}")
def copy_view(
    request: Request, copy_id: str, user: StaffUser, session: Db
):
    read_only(session)
    # A corrector's visibility is checked in the same query that reads the copy.
    if user.role != Role.CORRECTOR:
        ensure_copy_visible(session, user, copy_id)
    view = views.copy_page(session, user, copy_id, utcnow())
    if view is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    # What the harmonisation meeting changed on this copy, shown to the corrector who marked it.
    changed = harmonised.changes_for_corrector(session, user.id, copy_id) if view.mine else []
    session.close()  # everything is read: give the connection back before rendering
    lang = request_language(request)
    return render(
        request,
        "marking_copy.html",
        {
            "copy": view.copy,
            "paper": view.paper,
            "scheme": view.scheme,
            "state": view.state,
            "pages": view.pages,
            "width": view.width,
            "position": view.index + 1,
            "count": len(view.lot_copies),
            "lot_id": view.lot_id,
            "closed": view.closed.words(lang) if view.closed else None,
            "editable": view.editable,
            "special": allowed_special(view.copy.status),
            "boot": view.boot(lang),
            "fmt": fmt,
            "boot_next": view.next_id,
            "documents": view.documents,
            "flags": view.flags,
            "flagged_copy": request.query_params.get("flagged", "")[:16],
            "harmonised": changed,
        },
    )


@router.get("/marking/pages/{page_id}/image")
def page_image(
    request: Request,
    page_id: int,
    w: int | None = None,
    *,
    user: StaffUser,
    session: Db,
    store: Store,
    settings: SettingsDep,
):
    read_only(session)
    mine = user.role == Role.CORRECTOR
    # The corrector's visibility in the same query: the page's copy is in one of his lots.
    page = views.page_to_show(session, page_id, user.id if mine else None)
    if page is None or (not mine and not can_see_copy(session, user, page.copy_id)):
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    look = page_images.PageLook(page.image_sha256, page.rotation, page.skew_degrees)
    session.close()  # the image may take a moment: give the database connection back first
    return page_image_response(
        request.headers.get("if-none-match"), store, settings.derived_path, look, page_images.pick_width(w)
    )


# ---------------------------------------------------------------- JSON API


@router.get("/api/marking/copies/{copy_id}")
def get_state(copy_id: str, user: StaffUser, session: Db):
    ensure_copy_visible(session, user, copy_id)
    return JSONResponse(views.state_of_copy(session, copy_id).to_json())


@router.put("/api/marking/copies/{copy_id}")
def put_state(
    copy_id: str,
    body: SaveRequest,
    user: CorrectorUser,
    session: Db,
):
    # Committed inside save(): when this answer leaves, the mark is on disk. A JSONResponse as
    # it is: the state is plain JSON already, no need for FastAPI's generic encoder walking
    # every point of every pen stroke.
    state = save(session, user.id, copy_id, body)
    session.close()
    return JSONResponse(state.to_json())


class CommentIn(BaseModel):
    text: str = Field(max_length=comments.MAX_COMMENT)
    shared: bool = False


@router.get("/api/marking/papers/{paper_id}/comments")
def list_comments(paper_id: int, user: BankUser, session: Db):
    return {"entries": [e.to_json() for e in comments.bank(session, user, paper_id)]}


@router.post("/api/marking/papers/{paper_id}/comments", status_code=201)
def add_comment(
    paper_id: int, body: CommentIn, user: BankUser, session: Db
):
    entry = comments.add(session, user, paper_id, body.text, shared=body.shared)
    session.commit()
    return entry.to_json()


@router.put("/api/marking/comments/{comment_id}")
def edit_comment(
    comment_id: int, body: CommentIn, user: BankUser, session: Db
):
    entry = comments.edit(session, user, comment_id, body.text)
    session.commit()
    return entry.to_json()


@router.delete("/api/marking/comments/{comment_id}")
def retire_comment(comment_id: int, user: BankUser, session: Db):
    entry = comments.retire(session, user, comment_id)
    session.commit()
    return {"deleted": entry is None, "entry": entry.to_json() if entry else None}
