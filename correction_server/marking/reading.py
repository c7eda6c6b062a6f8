"""A copy's marking as stored: its barème, who holds the copy, and its state for the page.

The reads of the hot routes (copy view, autosave) are one or two queries each: statements built
once with bound parameters, the copy with its paper and marking in one row, the marking's marks,
layers and comments in one round trip.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, String, Text, bindparam, cast, exists, literal, select, union_all
from sqlalchemy.orm import Session

from correction_server.marking.rules import MarkingRefused, Scheme, SchemeQuestion, evaluate
from correction_server.models import (
    AnnotationLayer,
    CommentUse,
    Copy,
    Marking,
    Paper,
    Question,
    QuestionMark,
)
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy


class NotYourCopy(MarkingRefused):
    """404 like the access checks: a corrector must not learn that a copy id exists elsewhere."""

    status = 404
    code = "not_found"


@dataclass
class MarkingState:
    copy_id: str
    version: int
    status: str  # "new", "draft" or "marked"
    special: str | None
    appreciation: str
    marks: dict[int, Decimal]
    comments: list[int]
    layers: dict[int, list[dict]]
    total: Decimal | None
    mark_20: Decimal | None
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "copy_id": self.copy_id,
            "version": self.version,
            "status": self.status,
            "special": self.special,
            "appreciation": self.appreciation,
            "marks": {str(k): float(v) for k, v in self.marks.items()},
            "comments": self.comments,
            "layers": {str(k): v for k, v in self.layers.items()},
            "total": None if self.total is None else float(self.total),
            "mark_20": None if self.mark_20 is None else float(self.mark_20),
            "missing": self.missing,
        }


# ---------------------------------------------------------------- the barème


def load_scheme(session: Session, paper_id: int) -> Scheme:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise MarkingRefused(f"Paper {paper_id} does not exist.", "no_paper", paper=paper_id)
    rows = session.scalars(
        select(Question).where(Question.paper_id == paper_id).order_by(Question.position)
    ).all()
    return Scheme(
        paper_id=paper.id,
        code=paper.code,
        title=paper.title,
        questions=tuple(SchemeQuestion(q.id, q.position, q.label, q.max_points, q.step) for q in rows),
    )


# Once the coordinator has locked it, a barème no longer changes (correction_server.marking.scheme):
# each server process keeps it, per database and keyed by the lock's time, so a save or a page
# does not read the questions again. An unlocked barème is always read afresh.
_locked_schemes: weakref.WeakKeyDictionary[Engine, dict[tuple[int, datetime], Scheme]] = (
    weakref.WeakKeyDictionary()
)


def scheme_of(session: Session, paper: Paper) -> Scheme:
    """The paper's barème, from the process's cache once it is locked."""
    if paper.scheme_locked_at is None:
        return load_scheme(session, paper.id)
    cache = _locked_schemes.setdefault(session.get_bind().engine, {})
    key = (paper.id, paper.scheme_locked_at)
    scheme = cache.get(key)
    if scheme is None:
        if len(cache) > 1000:
            cache.clear()
        scheme = cache[key] = load_scheme(session, paper.id)
    return scheme


# ---------------------------------------------------------------- whose copy


def assigned_corrector(session: Session, copy_id: str) -> int | None:
    """The corrector whose lot holds the copy now (a withdrawn copy belongs to nobody)."""
    return session.scalar(
        select(CorrectionLot.corrector_id)
        .join(LotCopy, LotCopy.lot_id == CorrectionLot.id)
        .where(LotCopy.copy_id == copy_id, LotCopy.state == AssignmentState.ASSIGNED)
    )


def not_yours(copy_id: str) -> NotYourCopy:
    return NotYourCopy(f"Copy {copy_id} is not in your lots.", "not_yours", copy=copy_id)


def get_copy_for(session: Session, user_id: int, copy_id: str) -> Copy:
    """The copy if it is in one of the user's lots; the same refusal whether it exists or not."""
    copy = session.get(Copy, copy_id)
    if copy is None or assigned_corrector(session, copy_id) != user_id:
        raise not_yours(copy_id)
    return copy


# The hot statements are built once, with bound parameters: building a statement and its
# cache key anew at every request costs more CPU than running it.
_COPY = (
    select(Copy, Paper, Marking)
    .join(Paper, Paper.id == Copy.paper_id)
    .outerjoin(Marking, Marking.copy_id == Copy.id)
    .where(Copy.id == bindparam("copy_id"))
    # A session that saved before must see the row as it is now, not as it kept it.
    .execution_options(populate_existing=True)
)
_OWN_COPY = _COPY.where(
    exists()
    .where(LotCopy.copy_id == Copy.id, LotCopy.state == AssignmentState.ASSIGNED)
    .where(CorrectionLot.id == LotCopy.lot_id, CorrectionLot.corrector_id == bindparam("corrector_id"))
)


def load_copy(
    session: Session, copy_id: str, corrector_id: int | None = None
) -> tuple[Copy, Paper, Marking | None] | None:
    """The copy, its paper and its marking in one query; with `corrector_id`, only if the copy
    is in that corrector's lots now (None otherwise, whether it exists or not)."""
    if corrector_id is None:
        row = session.execute(_COPY, {"copy_id": copy_id}).first()
    else:
        row = session.execute(_OWN_COPY, {"copy_id": copy_id, "corrector_id": corrector_id}).first()
    return None if row is None else (row.Copy, row.Paper, row.Marking)


# ---------------------------------------------------------------- what a marking holds


@dataclass
class Stored:
    """What a copy's marking holds besides its row: marks, layers, comments under the appreciation."""

    marks: dict[int, Decimal] = field(default_factory=dict)
    layers: dict[int, list[dict]] = field(default_factory=dict)
    comments: list[int] = field(default_factory=list)


_STORED = union_all(
    select(
        literal("m").label("kind"),
        QuestionMark.question_id.label("key"),
        cast(QuestionMark.points, String).label("value"),
        literal(0).label("position"),
    ).where(QuestionMark.marking_id == bindparam("marking_id")),
    select(literal("l"), AnnotationLayer.page_id, cast(AnnotationLayer.items, Text), literal(0)).where(
        AnnotationLayer.marking_id == bindparam("marking_id")
    ),
    select(literal("c"), CommentUse.comment_id, literal(""), CommentUse.position).where(
        CommentUse.marking_id == bindparam("marking_id"), CommentUse.page_id.is_(None)
    ),
)


def load_stored(session: Session, marking_id: int) -> Stored:
    """Marks, layers and copy comments of a marking in one round trip."""
    stored = Stored()
    comments = []
    for kind, key, value, position in session.execute(_STORED, {"marking_id": marking_id}):
        if kind == "m":
            stored.marks[key] = Decimal(value).quantize(Decimal("0.01"))
        elif kind == "l":
            stored.layers[key] = json.loads(value) if value else []
        else:
            comments.append((position, key))
    stored.comments = [cid for _pos, cid in sorted(comments)]
    return stored


# ---------------------------------------------------------------- the state for the page


def read_state(session: Session, copy: Copy, scheme: Scheme | None = None) -> MarkingState:
    marking = session.scalar(
        select(Marking).where(Marking.copy_id == copy.id).execution_options(populate_existing=True)
    )
    return state_of(session, copy, marking, scheme)


def state_of(
    session: Session, copy: Copy, marking: Marking | None, scheme: Scheme | None = None
) -> MarkingState:
    """The state of a copy whose marking row is already read (one more query for its parts)."""
    if marking is None:
        return MarkingState(copy.id, 0, "new", None, "", {}, [], {}, None, None)
    scheme = scheme or load_scheme(session, copy.paper_id)
    stored = load_stored(session, marking.id)
    outcome = evaluate(scheme, stored.marks, marking.appreciation, marking.special)
    return MarkingState(
        copy_id=copy.id,
        version=marking.version,
        status=marking.status.value,
        special=marking.special.value if marking.special else None,
        appreciation=marking.appreciation,
        marks=stored.marks,
        comments=stored.comments,
        layers=stored.layers,
        total=marking.total,
        mark_20=marking.mark_20,
        missing=list(outcome.missing),
    )


def state_for(session: Session, user_id: int, copy_id: str) -> MarkingState:
    return read_state(session, get_copy_for(session, user_id, copy_id))
