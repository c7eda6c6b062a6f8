"""Marking a copy: the rules, and saving them without ever losing or overwriting work.

Rules (fiche 5 of the exams memento, and the BTS circular):
- a question gets 0 to its maximum, in its barème step (whole or half points);
- the total is the sum; a paper whose barème is not out of 20 is also converted to 20,
  to the nearest half point, a tie going to the candidate;
- `AB` only for a copy recorded absent at the centre, `00` only for a copy recorded blank,
  each set by an explicit request, never by typing in a mark field;
- a copy counts as marked once every question has a mark and an overall appreciation is written;
- marks are accepted only inside the paper's correction window and once the coordinator has
  locked the barème after the réunion d'entente.

Saves carry the version they were based on. A save based on an older version is refused with
the current state (`VersionConflict`), so the page can show what differs. A save returns only
after its transaction is committed: an acknowledged mark is on disk.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    BindParameter,
    Engine,
    String,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.marking import annotations
from correction_server.marking.comments import usable_comment_ids
from correction_server.models import (
    AnnotationLayer,
    CommentUse,
    Copy,
    CopyStatus,
    Marking,
    MarkingStatus,
    Page,
    Paper,
    Question,
    QuestionMark,
    SpecialMark,
)
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from massicot_core.errors import Refused, UserError

TWENTY = Decimal(20)
HALF = Decimal("0.5")
MAX_APPRECIATION = 4000


class MarkingRefused(Refused):
    """A save the rules refuse, answered with `status` and `{"error": code, "message": ...}`.

    `key` names the message in the words catalogue ("marking.err.<key>"), so the page shows it
    in the user's language; `message` is the English sentence when no key is given.
    """

    status = 422
    code = "invalid"

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(None, f"marking.err.{key}" if key else "", message=message, **values)

    def answer(self, lang: str | None = None) -> dict[str, Any]:
        return {"error": self.code, "message": self.words(lang)}


class NotYourCopy(MarkingRefused):
    """404 like the access checks: a corrector must not learn that a copy id exists elsewhere."""

    status = 404
    code = "not_found"


class MarkingClosed(MarkingRefused):
    """Outside the correction window, or the barème is not locked yet."""

    status = 423
    code = "closed"


class VersionConflict(MarkingRefused):
    status = 409
    code = "conflict"

    def __init__(self, message: str, current: MarkingState) -> None:
        super().__init__(message, "conflict")
        self.current = current

    def answer(self, lang: str | None = None) -> dict[str, Any]:
        return super().answer(lang) | {"current": self.current.to_json()}


# ---------------------------------------------------------------- the barème and pure rules


@dataclass(frozen=True)
class SchemeQuestion:
    id: int
    position: int
    label: str
    max_points: Decimal
    step: Decimal


@dataclass(frozen=True)
class Scheme:
    paper_id: int
    code: str
    title: str
    questions: tuple[SchemeQuestion, ...]

    @property
    def total(self) -> Decimal:
        return sum((q.max_points for q in self.questions), Decimal(0))

    @property
    def out_of_20(self) -> bool:
        return self.total == TWENTY

    def question(self, question_id: int) -> SchemeQuestion:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise MarkingRefused(f"Question {question_id} is not in the barème of paper {self.code}.")


def parse_points(text: str | Decimal | float | int) -> Decimal:
    """A mark as typed: "3", "2.5" or "2,5" (French decimal comma)."""
    if isinstance(text, Decimal):
        return text
    raw = str(text).strip().replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise MarkingRefused(
            f"{text!r} is not a mark: type a number such as 3 or 2,5.", "not_a_mark", typed=text
        ) from None
    if not value.is_finite():
        raise MarkingRefused(
            f"{text!r} is not a mark: type a number such as 3 or 2,5.", "not_a_mark", typed=text
        )
    return value


def check_points(question: SchemeQuestion, value: Decimal) -> Decimal:
    """The mark if the barème allows it, else a plain refusal saying what is allowed."""
    step_words = "half points" if question.step == HALF else "whole points"
    if value < 0 or value > question.max_points:
        raise MarkingRefused(
            f"{question.label}: {fmt(value)} is outside 0 to {fmt(question.max_points)} "
            f"(the barème's maximum for this question).",
            "out_of_range",
            question=question.label,
            value=fmt(value),
            maximum=fmt(question.max_points),
        )
    if value % question.step != 0:
        raise MarkingRefused(
            f"{question.label}: {fmt(value)} is not allowed; marks go in {step_words}.",
            "step_half" if question.step == HALF else "step_whole",
            question=question.label,
            value=fmt(value),
        )
    return value.quantize(Decimal("0.01"))


def convert_to_20(total: Decimal, scheme_total: Decimal) -> Decimal:
    """The total on 20, to the nearest half point; a tie goes up (in the candidate's favour)."""
    if scheme_total == TWENTY:
        return total
    halves = (total * TWENTY * 2 / scheme_total).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (halves / 2).quantize(Decimal("0.01"))


def fmt(value: Decimal | None) -> str:
    """A mark the French way: 12, 12,5."""
    if value is None:
        return "–"
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


def allowed_special(copy_status: CopyStatus) -> SpecialMark | None:
    if copy_status == CopyStatus.ABSENT:
        return SpecialMark.ABSENT
    if copy_status == CopyStatus.BLANK:
        return SpecialMark.BLANK
    return None


@dataclass(frozen=True)
class Outcome:
    status: MarkingStatus
    total: Decimal | None
    mark_20: Decimal | None
    missing: tuple[str, ...]  # what is still needed before the copy counts as marked


def evaluate(
    scheme: Scheme, marks: dict[int, Decimal], appreciation: str, special: SpecialMark | None
) -> Outcome:
    if special == SpecialMark.ABSENT:
        return Outcome(MarkingStatus.MARKED, None, None, ())
    if special == SpecialMark.BLANK:
        return Outcome(MarkingStatus.MARKED, Decimal("0.00"), Decimal("0.00"), ())
    missing = [q.label for q in scheme.questions if q.id not in marks]
    if not appreciation.strip():
        missing.append("appreciation")
    total = sum(marks.values(), Decimal(0)).quantize(Decimal("0.01")) if marks else None
    mark_20 = convert_to_20(total, scheme.total) if total is not None and not missing else None
    status = MarkingStatus.MARKED if not missing else MarkingStatus.DRAFT
    return Outcome(status, total, mark_20, tuple(missing))


def check_open(paper: Paper, now: datetime) -> None:
    """Refuse, in plain words, marks outside the window or before the barème is locked."""
    if paper.scheme_locked_at is None:
        raise MarkingClosed(
            f"Marks for {paper.code} are not open yet: the coordinator locks the barème after the "
            "réunion d'entente, then you can mark. You can already read the copies.",
            "not_locked",
            paper=paper.code,
        )
    opens, closes = paper.window_opens, paper.window_closes
    if opens is None or closes is None:
        raise MarkingClosed(
            f"The exam office has not set the correction window of {paper.code} yet; marks open once it has.",
            "no_window",
            paper=paper.code,
        )
    if now < opens:
        raise MarkingClosed(
            f"The correction window of {paper.code} opens on {_when(opens)}.",
            "not_yet",
            paper=paper.code,
            when=_when(opens),
        )
    if now > closes:
        raise MarkingClosed(
            f"The correction window of {paper.code} closed on {_when(closes)}. "
            "Marks can no longer be changed; contact the exam office if a mark is wrong.",
            "window_closed",
            paper=paper.code,
            when=_when(closes),
        )


def closed_reason(paper: Paper, now: datetime) -> str | None:
    try:
        check_open(paper, now)
    except MarkingClosed as exc:
        return str(exc)
    return None


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- what the page sends and gets


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


# ---------------------------------------------------------------- reading


def load_scheme(session: Session, paper_id: int) -> Scheme:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise MarkingRefused(f"Paper {paper_id} does not exist.")
    rows = session.scalars(
        select(Question).where(Question.paper_id == paper_id).order_by(Question.position)
    ).all()
    return Scheme(
        paper_id=paper.id,
        code=paper.code,
        title=paper.title,
        questions=tuple(SchemeQuestion(q.id, q.position, q.label, q.max_points, q.step) for q in rows),
    )


# Once the coordinator has locked it, a barème no longer changes (correction_server.scheme):
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


def assigned_corrector(session: Session, copy_id: str) -> int | None:
    """The corrector whose lot holds the copy now (a withdrawn copy belongs to nobody)."""
    return session.scalar(
        select(CorrectionLot.corrector_id)
        .join(LotCopy, LotCopy.lot_id == CorrectionLot.id)
        .where(LotCopy.copy_id == copy_id, LotCopy.state == AssignmentState.ASSIGNED)
    )


def get_copy_for(session: Session, user_id: int, copy_id: str) -> Copy:
    """The copy if it is in one of the user's lots; the same refusal whether it exists or not."""
    copy = session.get(Copy, copy_id)
    if copy is None or assigned_corrector(session, copy_id) != user_id:
        raise NotYourCopy(f"Copy {copy_id} is not in your lots.", "not_yours", copy=copy_id)
    return copy


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
    stored = _load_stored(session, marking.id)
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


# ---------------------------------------------------------------- saving


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


class _Stale(Exception):
    pass


@dataclass
class _Stored:
    """What a copy's marking holds besides its row: marks, layers, comments under the appreciation."""

    marks: dict[int, Decimal] = field(default_factory=dict)
    layers: dict[int, list[dict]] = field(default_factory=dict)
    comments: list[int] = field(default_factory=list)


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


def _load_for_save(session: Session, user_id: int, copy_id: str) -> tuple[Copy, Paper, Marking | None]:
    found = load_copy(session, copy_id, user_id)
    if found is None:
        raise NotYourCopy(f"Copy {copy_id} is not in your lots.", "not_yours", copy=copy_id)
    return found


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


def _load_stored(session: Session, marking_id: int) -> _Stored:
    """Marks, layers and copy comments of a marking in one round trip."""
    stored = _Stored()
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
    scheme = scheme_of(session, paper)
    new_marks = _validated_marks(scheme, copy, request)
    special = _validated_special(copy, request.special)
    layers = _validated_layers(session, copy, request.layers)
    comment_ids = _validated_comments(session, user_id, copy.paper_id, request, layers)
    if marking is None and request.version != 0:
        raise _Stale()
    if marking is not None and marking.version != request.version:
        raise _Stale()  # already stale when read: no need to lock anything
    stored = _Stored() if marking is None else _load_stored(session, marking.id)

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
            raise MarkingRefused(f"Page {page_id} is not a page of copy {copy.id}.")
        try:
            out[page_id] = annotations.parse_layer(items, f"page {pages[page_id] + 1}")
        except UserError as exc:
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
                f"Comment {min(unknown)} is not in your comment bank for this paper; reload the page."
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
