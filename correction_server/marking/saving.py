"""Saving a copy's marking without ever losing or overwriting work.

Saves carry the version they were based on. A save based on an older version is refused with
the current state (`VersionConflict`), so the page can show what differs. A save returns only
after its transaction is committed: an acknowledged mark is on disk.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import BindParameter, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.marking import annotations
from correction_server.marking.comments import usable_comment_ids
from correction_server.marking.frozen import ensure_not_frozen
from correction_server.marking.reading import (
    MarkingState,
    Stored,
    load_copy,
    load_stored,
    not_yours,
    scheme_of,
    state_for,
)
from correction_server.marking.rules import (
    MarkingClosed,
    MarkingRefused,
    Scheme,
    allowed_special,
    check_open,
    check_points,
    evaluate,
    parse_points,
    utcnow,
)
from correction_server.models import (
    AnnotationLayer,
    CommentUse,
    Copy,
    CopyStatus,
    Marking,
    MarkingStatus,
    Page,
    Paper,
    QuestionMark,
    SpecialMark,
)
from massicot_core.errors import UserError

MAX_APPRECIATION = 4000


class VersionConflict(MarkingRefused):
    status = 409
    code = "conflict"

    def __init__(self, message: str, current: MarkingState) -> None:
        super().__init__(message, "conflict")
        self.current = current

    def answer(self, lang: str | None = None) -> dict[str, Any]:
        return super().answer(lang) | {"current": self.current.to_json()}


class _Stale(Exception):
    pass


class SaveRequest(BaseModel):
    """One autosave. Fields left out (None) are unchanged; `version` is the state it was based on."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0)
    # question id -> mark as typed ("2,5"), or null to clear the field
    marks: dict[int, str | None] | None = None
    appreciation: str | None = Field(default=None, max_length=MAX_APPRECIATION)
    # "AB" or "00" to confirm one, "" to withdraw it
    special: Literal["AB", "00", ""] | None = None
    # bank comments placed under the appreciation, in order
    comments: list[int] | None = Field(default=None, max_length=50)
    # page id -> the whole layer of that page (only pages that changed need to be sent)
    layers: dict[int, list[dict]] | None = None

    @field_validator("marks", mode="before")
    @classmethod
    def _marks_as_text(cls, value):
        if isinstance(value, dict):
            return {k: (None if v is None or v == "" else str(v)) for k, v in value.items()}
        return value


def save(
    session: Session,
    user_id: int,
    copy_id: str,
    request: SaveRequest,
    now: datetime | None = None,
) -> MarkingState:
    """Apply one autosave and commit it before returning; refuse stale or invalid saves whole.

    Uses (and ends) the caller's transaction: committed on success, rolled back on refusal.
    """
    now = now or utcnow()
    try:
        state = _apply(session, user_id, copy_id, request, now)
        # Last, and committed with it: the audit append serialises writers, so hold it briefly.
        _audit_save(session, user_id, request, state)
    except (IntegrityError, _Stale):
        # A stale version, or two first saves of one copy racing to create its marking.
        session.rollback()
        raise VersionConflict(
            "This copy was changed elsewhere (another tab or window) since this page loaded. "
            "Nothing was overwritten: compare, then keep your version or the saved one.",
            state_for(session, user_id, copy_id),
        ) from None
    except BaseException:
        session.rollback()
        raise
    return state


def _load_for_save(session: Session, user_id: int, copy_id: str) -> tuple[Copy, Paper, Marking | None]:
    found = load_copy(session, copy_id, user_id)
    if found is None:
        raise not_yours(copy_id)
    return found


def _bind(column) -> BindParameter:
    """A bound parameter typed like `column` (so enums and aware datetimes are stored as usual)."""
    return bindparam(f"b_{column.key}", type_=column.type)


_MARKING_FIELDS = (
    "corrector_id",
    "version",
    "status",
    "special",
    "appreciation",
    "total",
    "mark_20",
    "marked_at",
    "updated_at",
)
_T = Marking.__table__.c
# Compare-and-set on the version: the row lock it takes serialises concurrent saves of one copy,
# and a save based on an older version updates nothing.
_MARKING_CAS = (
    update(Marking)
    .where(Marking.id == bindparam("m_id"), Marking.version == bindparam("m_version"))
    .values({name: _bind(_T[name]) for name in _MARKING_FIELDS})
    .execution_options(synchronize_session=False)
)
_MARKING_NEW = (
    insert(Marking)
    .values({"copy_id": bindparam("m_copy_id"), **{name: _bind(_T[name]) for name in _MARKING_FIELDS}})
    .returning(Marking.id)
)
_QM = QuestionMark.__table__.c
_MARK_UPDATE = (
    update(QuestionMark)
    .where(QuestionMark.marking_id == bindparam("m_id"), QuestionMark.question_id == bindparam("q_id"))
    .values(points=_bind(_QM.points))
)


def _apply(session: Session, user_id: int, copy_id: str, request: SaveRequest, now: datetime) -> MarkingState:
    """Validate everything, then write: the marking row first (compare-and-set on its version,
    which also locks it), then only the marks, layers and comments that changed, then the audit
    entry. A handful of statements, no reading back: the new state is known."""
    copy, paper, marking = _load_for_save(session, user_id, copy_id)
    check_open(paper, now)
    if copy.flagged:
        # Flagged to the office (marking.flags): out of the to-do until it decides.
        raise MarkingClosed(
            f"Copy {copy.id} is flagged to the office: it is marked after the office's decision.",
            "flagged",
            copy=copy.id,
        )
    ensure_not_frozen(session, paper)
    scheme = scheme_of(session, paper)
    new_marks = _validated_marks(scheme, copy, request)
    special = _validated_special(copy, request.special)
    layers = _validated_layers(session, copy, request.layers)
    comment_ids = _validated_comments(session, user_id, copy.paper_id, request, layers)
    if marking is None and request.version != 0:
        raise _Stale()
    if marking is not None and marking.version != request.version:
        raise _Stale()  # already stale when read: no need to lock anything
    stored = Stored() if marking is None else load_stored(session, marking.id)

    # The new state, computed before any write.
    marks = dict(stored.marks)
    current_special = marking.special if marking is not None else None
    if special is not None:
        # Confirming AB or 00 replaces any mark, and withdrawing it leaves a blank sheet.
        marks = {}
        current_special = special or None
    for qid, value in new_marks.items():
        if value is None:
            marks.pop(qid, None)
        else:
            marks[qid] = value
    appreciation = (
        request.appreciation
        if request.appreciation is not None
        else (marking.appreciation if marking is not None else "")
    )
    outcome = evaluate(scheme, marks, appreciation, current_special)
    was_marked = marking is not None and marking.status == MarkingStatus.MARKED
    if outcome.status != MarkingStatus.MARKED:
        marked_at = None
    else:
        marked_at = marking.marked_at if was_marked and marking.marked_at is not None else now
    row = {
        "b_corrector_id": user_id,
        "b_version": request.version + 1,
        "b_status": outcome.status,
        "b_special": current_special,
        "b_appreciation": appreciation,
        "b_total": outcome.total,
        "b_mark_20": outcome.mark_20,
        "b_marked_at": marked_at,
        "b_updated_at": now,
    }
    if marking is None:
        # A concurrent first save of this copy fails here on the unique copy_id.
        marking_id = session.execute(_MARKING_NEW, {"m_copy_id": copy.id, **row}).scalar_one()
    else:
        marking_id = marking.id
        done = session.execute(_MARKING_CAS, {"m_id": marking_id, "m_version": request.version, **row})
        if done.rowcount != 1:
            raise _Stale()

    _write_marks(session, marking_id, stored.marks, marks)
    if layers is not None:
        _store_layers(session, marking_id, stored.layers, layers)
    comments = stored.comments
    if comment_ids is not None and comment_ids != stored.comments:
        _store_copy_comments(session, marking_id, comment_ids)
        comments = list(comment_ids)
    state_layers = dict(stored.layers)
    for page_id, items in (layers or {}).items():
        state_layers[page_id] = annotations.dump_layer(items)
    state = MarkingState(
        copy_id=copy.id,
        version=request.version + 1,
        status=outcome.status.value,
        special=current_special.value if current_special else None,
        appreciation=appreciation,
        marks=marks,
        comments=comments,
        layers=state_layers,
        total=outcome.total,
        mark_20=outcome.mark_20,
        missing=list(outcome.missing),
    )
    return state


def _write_marks(
    session: Session, marking_id: int, before: dict[int, Decimal], after: dict[int, Decimal]
) -> None:
    """Only the marks that changed: most autosaves change one field, or none."""
    gone = [qid for qid in before if qid not in after]
    if gone:
        session.execute(
            delete(QuestionMark).where(
                QuestionMark.marking_id == marking_id, QuestionMark.question_id.in_(gone)
            )
        )
    for qid, points in after.items():
        if qid in before and before[qid] != points:
            session.execute(_MARK_UPDATE, {"m_id": marking_id, "q_id": qid, "b_points": points})
    new = [
        {"marking_id": marking_id, "question_id": qid, "points": points}
        for qid, points in after.items()
        if qid not in before
    ]
    if new:
        session.execute(insert(QuestionMark), new)


def _audit_save(session: Session, user_id: int, request: SaveRequest, state: MarkingState) -> None:
    """The save's trace in the audit log, its transaction's last write: committed with it, now."""
    details: dict[str, object] = {
        "version": state.version,
        "status": state.status,
        "special": state.special,
        "marks": {str(k): v for k, v in sorted(state.marks.items())},
        "total": state.total,
        "mark_20": state.mark_20,
    }
    if request.appreciation is not None:
        details["appreciation"] = state.appreciation
    if request.comments is not None:
        details["comments"] = state.comments
    if request.layers is not None:
        # A layer can hold thousands of pen points: the trace keeps its size and fingerprint.
        details["layers"] = {
            str(page_id): {
                "items": len(items),
                "sha256": hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest(),
            }
            for page_id, items in sorted(state.layers.items())
            if page_id in request.layers
        }
    audit.record_and_commit(
        session, audit.Actor(user_id, "corrector"), "marking.save", "copy", state.copy_id, details
    )


def _validated_marks(scheme: Scheme, copy: Copy, request: SaveRequest) -> dict[int, Decimal | None]:
    if not request.marks:
        return {}
    typed = {qid: v for qid, v in request.marks.items() if v is not None}
    if typed and copy.status in (CopyStatus.ABSENT, CopyStatus.BLANK):
        recorded = "absent" if copy.status == CopyStatus.ABSENT else "blank"
        only = "AB" if copy.status == CopyStatus.ABSENT else "00"
        raise MarkingRefused(
            f"Copy {copy.id} was recorded {recorded} at the centre: its only mark is {only}. "
            "If the scan shows answers, tell the exam office.",
            "special_only_" + only,
            copy=copy.id,
        )
    out: dict[int, Decimal | None] = {}
    for qid, text in request.marks.items():
        question = scheme.question(qid)
        out[qid] = None if text is None else check_points(question, parse_points(text))
    return out


def _validated_special(copy: Copy, wanted: str | None) -> SpecialMark | Literal[""] | None:
    if wanted is None or wanted == "":
        return wanted
    mark = SpecialMark(wanted)
    if allowed_special(copy.status) != mark:
        if mark == SpecialMark.ABSENT:
            raise MarkingRefused(
                f"AB is only for a copy recorded absent at the centre; copy {copy.id} was not. "
                "Mark its questions instead.",
                "ab_not_absent",
                copy=copy.id,
            )
        raise MarkingRefused(
            f"00 is only for a copy recorded blank at the centre; copy {copy.id} was not. "
            "Mark its questions (0 is a valid mark).",
            "blank_not_blank",
            copy=copy.id,
        )
    return mark


def _validated_layers(
    session: Session, copy: Copy, raw: dict[int, list[dict]] | None
) -> dict[int, list[annotations.Item]] | None:
    if raw is None:
        return None
    pages = dict(session.execute(select(Page.id, Page.position).where(Page.copy_id == copy.id)).all())
    out = {}
    for page_id, items in raw.items():
        if page_id not in pages:
            raise MarkingRefused(
                f"Page {page_id} is not a page of copy {copy.id}.", "not_a_page", page=page_id, copy=copy.id
            )
        try:
            out[page_id] = annotations.parse_layer(items, f"page {pages[page_id] + 1}")
        except UserError as exc:
            # The layer is the page's own data, not typed by the corrector: its refusal says which
            # item is wrong in the validator's words, and stays as it is.
            raise MarkingRefused(str(exc)) from exc
    return out


def _validated_comments(
    session: Session,
    user_id: int,
    paper_id: int,
    request: SaveRequest,
    layers: dict[int, list[annotations.Item]] | None,
) -> list[int] | None:
    wanted = set(request.comments or [])
    for items in (layers or {}).values():
        wanted.update(cid for _key, cid in annotations.comment_ids(items))
    if wanted:
        unknown = wanted - usable_comment_ids(session, user_id, paper_id, wanted)
        if unknown:
            raise MarkingRefused(
                f"Comment {min(unknown)} is not in your comment bank for this paper; reload the page.",
                "not_in_bank",
                comment=min(unknown),
            )
    return request.comments


def _store_layers(
    session: Session,
    marking_id: int,
    existing: dict[int, list[dict]],
    layers: dict[int, list[annotations.Item]],
) -> None:
    for page_id, items in layers.items():
        data = annotations.dump_layer(items)
        if page_id in existing:
            session.execute(
                update(AnnotationLayer)
                .where(AnnotationLayer.marking_id == marking_id, AnnotationLayer.page_id == page_id)
                .values(items=data)
            )
        else:
            session.execute(
                insert(AnnotationLayer).values(marking_id=marking_id, page_id=page_id, items=data)
            )
        # The uses index follows the layer: comments placed on this page, by item id.
        session.execute(
            delete(CommentUse).where(CommentUse.marking_id == marking_id, CommentUse.page_id == page_id)
        )
        uses = [
            {
                "marking_id": marking_id,
                "comment_id": comment_id,
                "page_id": page_id,
                "item_key": f"p{page_id}:{key}",
                "position": position,
            }
            for position, (key, comment_id) in enumerate(annotations.comment_ids(items))
        ]
        if uses:
            session.execute(insert(CommentUse), uses)


def _store_copy_comments(session: Session, marking_id: int, comment_ids: list[int]) -> None:
    session.execute(
        delete(CommentUse).where(CommentUse.marking_id == marking_id, CommentUse.page_id.is_(None))
    )
    if comment_ids:
        session.execute(
            insert(CommentUse),
            [
                {
                    "marking_id": marking_id,
                    "comment_id": comment_id,
                    "page_id": None,
                    "item_key": f"copy:{position}",
                    "position": position,
                }
                for position, comment_id in enumerate(comment_ids)
            ],
        )
