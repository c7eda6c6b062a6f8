"""Second reading: a second corrector marks a copy blind, the coordinator keeps a mark.

The second reader sees neither the first mark nor the annotations. Every step (request, second
mark, decision) is appended to the audit log in the transaction that makes it; the functions
here flush, the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.coordination.people import display_name, paper_correctors
from correction_server.coordination.refusals import CoordinationRefused
from correction_server.dispatch.conflicts import TEACHES, conflicts_for
from correction_server.marking.frozen import ensure_not_frozen
from correction_server.marking.reading import assigned_corrector, load_scheme
from correction_server.marking.rules import check_open, check_points, evaluate, fmt, parse_points
from correction_server.models import (
    Copy,
    CopyStatus,
    Marking,
    MarkingStatus,
    Paper,
    ReadingChoice,
    ReadingStatus,
    SecondReading,
    User,
)

# A gap of more than this (points out of 20) between two readings is shown as large.
LARGE_GAP = Decimal(3)


@dataclass
class ReadingView:
    id: int
    copy_id: str
    reader_id: int
    reader_name: str
    first_corrector_name: str
    status: str
    reason: str
    first_mark: str  # "12,5", "AB", "00" or "–" (not marked yet)
    second_mark: str
    gap: Decimal | None
    large_gap: bool
    choice: str | None
    decided_mark: str
    decision_reason: str


def _first_mark(m: Marking | None) -> tuple[str, Decimal | None]:
    if m is None or m.status != MarkingStatus.MARKED:
        return "–", None
    if m.special is not None:
        return m.special.value, None
    return fmt(m.mark_20), m.mark_20


def copy_of_paper(session: Session, typed: str, paper_id: int) -> Copy:
    """The copy whose number a coordinator typed, if it is a copy of his paper."""
    copy = session.get(Copy, typed.upper())
    if copy is None or copy.paper_id != paper_id:
        raise CoordinationRefused("not_of_paper", typed=typed)
    return copy


def request_second_reading(
    session: Session, copy_id: str, reader_id: int, actor: audit.Actor, reason: str = ""
) -> SecondReading:
    copy = session.get(Copy, copy_id.strip().upper())
    if copy is None:
        raise CoordinationRefused("no_copy", copy=copy_id)
    if copy.status in (CopyStatus.ABSENT, CopyStatus.BLANK):
        raise CoordinationRefused(f"recorded_{copy.status.value}", copy=copy.id)
    reader = paper_correctors(session, copy.paper_id).get(reader_id)
    if reader is None or not reader.active:
        raise CoordinationRefused("reader_not_corrector")
    first = session.scalar(select(Marking).where(Marking.copy_id == copy.id))
    holder = assigned_corrector(session, copy.id)
    if reader.id in {holder, first.corrector_id if first else None}:
        raise CoordinationRefused("reader_marks_it", reader=display_name(reader))
    # Every conflict of interest (dispatch.conflicts), not only his own établissement.
    barred = conflicts_for(session, [copy.id], [reader.id]).get(copy.id, {})
    if reader.id in barred:
        kind = "reader_teaches" if barred[reader.id] == TEACHES else "reader_incompatible"
        raise CoordinationRefused(kind, reader=display_name(reader), copy=copy.id)
    open_one = session.scalar(
        select(SecondReading.id).where(
            SecondReading.copy_id == copy.id, SecondReading.status != ReadingStatus.DECIDED
        )
    )
    if open_one is not None:
        raise CoordinationRefused("under_way", copy=copy.id)
    reading = SecondReading(
        copy_id=copy.id,
        paper_id=copy.paper_id,
        reader_id=reader.id,
        first_corrector_id=first.corrector_id if first else holder,
        status=ReadingStatus.REQUESTED,
        reason=reason.strip(),
        requested_by_id=actor.user_id,
        requested_at=datetime.now(UTC),
        marks={},
        appreciation="",
        decision_reason="",
    )
    session.add(reading)
    session.flush()
    audit.record(
        session,
        actor,
        "coordination.second_reading.request",
        "copy",
        copy.id,
        {"reading": reading.id, "reader_id": reader.id, "reason": reading.reason},
    )
    return reading


def reading_for_reader(session: Session, reading_id: int, reader: User) -> SecondReading:
    """The reading if `reader` is its second corrector; the same refusal whether it exists or not."""
    reading = session.get(SecondReading, reading_id)
    if reading is None or reading.reader_id != reader.id:
        raise CoordinationRefused("not_found")
    return reading


def save_second_reading(
    session: Session,
    reading_id: int,
    reader: User,
    marks: dict[int, str],
    appreciation: str,
    now: datetime | None = None,
) -> SecondReading:
    """The second corrector's mark: every question, in the barème's steps, and an appreciation."""
    reading = reading_for_reader(session, reading_id, reader)
    if reading.status == ReadingStatus.DECIDED:
        raise CoordinationRefused("reading_closed")
    paper = session.get(Paper, reading.paper_id)
    check_open(paper, now or datetime.now(UTC))
    scheme = load_scheme(session, reading.paper_id)
    points: dict[int, Decimal] = {}
    for q in scheme.questions:
        typed = (marks.get(q.id) or "").strip()
        if not typed:
            raise CoordinationRefused("mark_missing", question=q.label)
        points[q.id] = check_points(q, parse_points(typed))
    if not appreciation.strip():
        raise CoordinationRefused("appreciation_missing")
    outcome = evaluate(scheme, points, appreciation, None)
    reading.marks = {str(k): str(v) for k, v in points.items()}
    reading.appreciation = appreciation.strip()
    reading.mark_20 = outcome.mark_20
    reading.read_at = datetime.now(UTC)
    reading.status = ReadingStatus.DONE
    session.flush()
    audit.record(
        session,
        audit.Actor(reader.id, reader.role.value),
        "coordination.second_reading.mark",
        "copy",
        reading.copy_id,
        {
            "reading": reading.id,
            "marks": reading.marks,
            "mark_20": reading.mark_20,
            "appreciation": reading.appreciation,
        },
    )
    return reading


def decide_second_reading(
    session: Session,
    reading_id: int,
    paper_id: int,
    actor: audit.Actor,
    choice: str,
    other_mark: str = "",
    reason: str = "",
) -> SecondReading:
    """The coordinator keeps the first mark, takes the second, or sets another (with a reason)."""
    reading = session.get(SecondReading, reading_id)
    if reading is None or reading.paper_id != paper_id:
        raise CoordinationRefused("not_found")
    ensure_not_frozen(session, session.get(Paper, paper_id))  # the jury has deliberated
    if reading.status != ReadingStatus.DONE:
        raise CoordinationRefused(
            "not_read_yet" if reading.status == ReadingStatus.REQUESTED else "already_decided"
        )
    first = session.scalar(select(Marking).where(Marking.copy_id == reading.copy_id))
    _text, first_20 = _first_mark(first)
    try:
        picked = ReadingChoice(choice)
    except ValueError:
        raise CoordinationRefused("choose") from None
    if picked == ReadingChoice.FIRST:
        if first_20 is None:
            raise CoordinationRefused("no_first_mark")
        mark = first_20
    elif picked == ReadingChoice.SECOND:
        mark = reading.mark_20
    else:
        mark = parse_mark_20(other_mark)
        if not reason.strip():
            raise CoordinationRefused("reason_missing")
    reading.first_mark_20 = first_20
    reading.choice = picked
    reading.decided_mark_20 = mark
    reading.decision_reason = reason.strip()
    reading.decided_by_id = actor.user_id
    reading.decided_at = datetime.now(UTC)
    reading.status = ReadingStatus.DECIDED
    session.flush()
    audit.record(
        session,
        actor,
        "coordination.second_reading.decide",
        "copy",
        reading.copy_id,
        {
            "reading": reading.id,
            "first": first_20,
            "second": reading.mark_20,
            "choice": picked.value,
            "mark_20": mark,
            "reason": reading.decision_reason,
        },
    )
    return reading


def parse_mark_20(text: str) -> Decimal:
    """A mark out of 20 typed by a person: 0 to 20 in half points."""
    value = parse_points(text or "")
    if value < 0 or value > 20 or (value * 2) % 1 != 0:
        raise CoordinationRefused("not_a_mark_20", typed=text)
    return value.quantize(Decimal("0.01"))


def readings_of_paper(session: Session, paper_id: int) -> list[ReadingView]:
    readings = session.scalars(
        select(SecondReading).where(SecondReading.paper_id == paper_id).order_by(SecondReading.id)
    ).all()
    users = {u.id: u for u in session.scalars(select(User))}
    firsts = {
        m.copy_id: m
        for m in session.scalars(
            select(Marking).where(Marking.copy_id.in_([r.copy_id for r in readings] or [""]))
        )
    }
    out = []
    for r in readings:
        first = firsts.get(r.copy_id)
        first_text, first_20 = _first_mark(first)
        gap = (r.mark_20 - first_20) if (r.mark_20 is not None and first_20 is not None) else None
        first_user = users.get(first.corrector_id) if first else users.get(r.first_corrector_id or -1)
        out.append(
            ReadingView(
                id=r.id,
                copy_id=r.copy_id,
                reader_id=r.reader_id,
                reader_name=display_name(users[r.reader_id]),
                first_corrector_name=display_name(first_user) if first_user else "–",
                status=r.status.value,
                reason=r.reason,
                first_mark=first_text,
                second_mark=fmt(r.mark_20) if r.mark_20 is not None else "–",
                gap=gap,
                large_gap=gap is not None and abs(gap) > LARGE_GAP,
                choice=r.choice.value if r.choice else None,
                decided_mark=fmt(r.decided_mark_20) if r.decided_mark_20 is not None else "",
                decision_reason=r.decision_reason,
            )
        )
    return out


def readings_of_reader(session: Session, reader: User) -> list[SecondReading]:
    return list(
        session.scalars(
            select(SecondReading).where(SecondReading.reader_id == reader.id).order_by(SecondReading.id)
        )
    )
