"""The corrector's pages (home, copy view) and the JSON API the copy view autosaves through.

Thin routes: access checks from correction_server.access, rules in correction_server.marking
and correction_server.comments, pixels in correction_server.page_images.

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

import json
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from correction_server.auth.access import (
    NOT_YOURS,
    can_see_copy,
    ensure_copy_visible,
)
from correction_server.db import read_only
from correction_server.deps import BankUser, CorrectorUser, Db, SettingsDep, StaffUser, Store
from correction_server.marking import comments
from correction_server.marking import service as marking
from correction_server.models import Copy, Marking, Page, Paper, Role, User
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.pages import images as page_images
from correction_server.pages.serving import page_image_response
from correction_server.web.rendering import render, request_language

router = APIRouter()


# ---------------------------------------------------------------- pages


@dataclass
class LotCopyRow:
    copy_id: str
    status: str  # "todo", "draft" or "marked"
    mark_20: str


@dataclass
class LotView:
    lot_id: int
    number: int
    paper_id: int
    paper_code: str
    paper_title: str
    closes: datetime | None
    closed_reason: str | None
    rows: list[LotCopyRow]

    @property
    def marked(self) -> int:
        return sum(1 for r in self.rows if r.status == "marked")

    @property
    def next_copy(self) -> str | None:
        return next((r.copy_id for r in self.rows if r.status != "marked"), None)


def lots_of(session: Session, user: User, now: datetime) -> list[LotView]:
    lots = session.execute(
        select(CorrectionLot, Paper)
        .join(Paper, Paper.id == CorrectionLot.paper_id)
        .where(CorrectionLot.corrector_id == user.id)
        .order_by(Paper.code, CorrectionLot.number)
    ).all()
    views = []
    for lot, paper in lots:
        rows = session.execute(
            select(LotCopy.copy_id, Marking.status, Marking.mark_20, Marking.special)
            .outerjoin(Marking, Marking.copy_id == LotCopy.copy_id)
            .where(LotCopy.lot_id == lot.id, LotCopy.state == AssignmentState.ASSIGNED)
            .order_by(LotCopy.position)
        ).all()
        views.append(
            LotView(
                lot_id=lot.id,
                number=lot.number,
                paper_id=paper.id,
                paper_code=paper.code,
                paper_title=paper.title,
                closes=paper.window_closes,
                closed_reason=marking.closed_reason(paper, now),
                rows=[
                    LotCopyRow(
                        copy_id,
                        "todo" if status is None else status.value,
                        special.value if special else marking.fmt(mark_20) if mark_20 is not None else "",
                    )
                    for copy_id, status, mark_20, special in rows
                ],
            )
        )
    return views


@router.get("/marking")
def home(request: Request, user: CorrectorUser, session: Db):
    lots = lots_of(read_only(session), user, marking.utcnow())
    session.close()
    return render(request, "marking_home.html", {"lots": lots})


@dataclass(frozen=True)
class PageRef:
    id: int
    position: int


# Built once, with bound parameters (see correction_server.marking: building them costs more
# than running them).
_LOT_OF_COPY = (
    select(LotCopy.lot_id)
    .where(LotCopy.copy_id == bindparam("copy_id"), LotCopy.state == AssignmentState.ASSIGNED)
    .scalar_subquery()
)
_NEIGHBOURS = (
    select(LotCopy.copy_id, LotCopy.lot_id)
    .where(LotCopy.lot_id == _LOT_OF_COPY, LotCopy.state == AssignmentState.ASSIGNED)
    .order_by(LotCopy.position)
)
_PAGES = (
    select(Page.copy_id, Page.id, Page.position)
    .where(Page.copy_id.in_(bindparam("copy_ids", expanding=True)))
    .order_by(Page.copy_id, Page.position)
)
_PAGE = select(Page).where(Page.id == bindparam("page_id"))
_OWN_PAGE = _PAGE.where(
    exists()
    .where(LotCopy.copy_id == Page.copy_id, LotCopy.state == AssignmentState.ASSIGNED)
    .where(CorrectionLot.id == LotCopy.lot_id, CorrectionLot.corrector_id == bindparam("corrector_id"))
)


def _lot_neighbours(session: Session, copy_id: str) -> tuple[list[str], int | None]:
    """The copies of the lot holding `copy_id`, in slip order, and the lot id (one query)."""
    rows = session.execute(_NEIGHBOURS, {"copy_id": copy_id}).all()
    if not rows:
        return [copy_id], None
    return [r.copy_id for r in rows], rows[0].lot_id


def _pages_of(session: Session, copy_ids: list[str]) -> dict[str, list[PageRef]]:
    """Pages of a few copies (this one and the next, pre-fetched), in order, in one query."""
    found: dict[str, list[PageRef]] = {c: [] for c in copy_ids}
    for copy_id, page_id, position in session.execute(_PAGES, {"copy_ids": copy_ids}):
        found[copy_id].append(PageRef(page_id, position))
    return found


@router.get("/marking/copies/{copy_id}")
def copy_view(
    request: Request, copy_id: str, user: StaffUser, session: Db
):
    mine = user.role == Role.CORRECTOR
    read_only(session)
    # A corrector's visibility is checked in the same query that reads the copy.
    if not mine:
        ensure_copy_visible(session, user, copy_id)
    found = marking.load_copy(session, copy_id, user.id if mine else None)
    if found is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    copy, paper, row = found
    scheme = marking.scheme_of(session, paper)
    state = marking.state_of(session, copy, row, scheme)
    now = marking.utcnow()
    closed = marking.closed_reason(paper, now)
    if closed:
        closed = _closed_error(paper, now).words(request_language(request))
    ids, lot_id = _lot_neighbours(session, copy_id)
    index = ids.index(copy_id)
    next_id = ids[index + 1] if index + 1 < len(ids) else None
    pages_by_copy = _pages_of(session, [copy_id] + ([next_id] if next_id else []))
    pages = pages_by_copy[copy_id]
    if mine:
        # Retired entries too: copies keep showing the comments they use.
        entries = comments.bank(session, user, paper.id, include_retired=True)
        bank = [e for e in entries if not e.retired]
        texts = {e.id: e.text for e in entries}
    else:
        bank = []
        texts = comments.texts(session, marking_owner(session, copy_id), paper.id)
    session.close()  # everything is read: give the connection back before rendering
    width = page_images.DEFAULT_WIDTH
    boot = {
        "copy_id": copy.id,
        "copy_status": copy.status.value,
        "paper_id": paper.id,
        "editable": mine and closed is None,
        "state": state.to_json(),
        "questions": [
            {"id": q.id, "label": q.label, "max": float(q.max_points), "step": float(q.step)}
            for q in scheme.questions
        ],
        "scheme_total": float(scheme.total),
        "bank": [e.to_json() for e in bank],
        "texts": {str(k): v for k, v in texts.items()},
        "pages": [{"id": p.id, "position": p.position} for p in pages],
        "prev": ids[index - 1] if index > 0 else None,
        "next": next_id,
        "next_images": [_image_url(p.id, width) for p in pages_by_copy[next_id]] if next_id else [],
        "home": "/marking" if mine else "/home",
        "lang": request_language(request),
    }
    return render(
        request,
        "marking_copy.html",
        {
            "copy": copy,
            "paper": paper,
            "scheme": scheme,
            "state": state,
            "pages": pages,
            "width": width,
            "position": index + 1,
            "count": len(ids),
            "lot_id": lot_id,
            "closed": closed,
            "editable": boot["editable"],
            "special": marking.allowed_special(copy.status),
            "boot_json": json.dumps(boot, ensure_ascii=False).replace("</", "<\\/"),
            "fmt": marking.fmt,
            "boot_next": boot["next"],
        },
    )


def marking_owner(session: Session, copy_id: str) -> int:
    """Whose comment bank a copy's comments come from, for a coordinator reading it."""
    return session.scalar(select(Marking.corrector_id).where(Marking.copy_id == copy_id)) or 0


def _closed_error(paper: Paper, now: datetime) -> marking.MarkingClosed:
    try:
        marking.check_open(paper, now)
    except marking.MarkingClosed as exc:
        return exc
    raise AssertionError("the paper is open")


def _image_url(page_id: int, width: int) -> str:
    return f"/marking/pages/{page_id}/image?w={width}"


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
    if user.role == Role.CORRECTOR:
        # The corrector's visibility in the same query: the page's copy is in one of his lots.
        page = session.scalar(_OWN_PAGE, {"page_id": page_id, "corrector_id": user.id})
    else:
        page = session.scalar(_PAGE, {"page_id": page_id})
    if page is None or (user.role != Role.CORRECTOR and not can_see_copy(session, user, page.copy_id)):
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
    return JSONResponse(marking.read_state(session, session.get(Copy, copy_id)).to_json())


@router.put("/api/marking/copies/{copy_id}")
def put_state(
    copy_id: str,
    body: marking.SaveRequest,
    user: CorrectorUser,
    session: Db,
):
    # Committed inside save(): when this answer leaves, the mark is on disk. A JSONResponse as
    # it is: the state is plain JSON already, no need for FastAPI's generic encoder walking
    # every point of every pen stroke.
    state = marking.save(session, user.id, copy_id, body)
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
