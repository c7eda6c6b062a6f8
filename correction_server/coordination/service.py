"""The coordinator's work on a paper: progress, harmonisation, reassignment, second reading.

Nothing here reads a candidate's identity for display: the coordinator sees correctors, copy
ids and centres, never who wrote a copy. The établissement rule is checked (through
IdentityLink, with service rights, like the dispatch) but a refusal never says which
candidate or school is concerned.

Every change (reassignment, second-reading request, second mark, decision) is appended to the
audit log in the transaction that makes it; the functions here flush, the caller commits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.coordination import statistics
from correction_server.marking import service as marking
from correction_server.models import (
    Candidate,
    Centre,
    Copy,
    CopyStatus,
    CorrectorPaper,
    IdentityLink,
    Marking,
    MarkingStatus,
    Paper,
    QuestionMark,
    ReadingChoice,
    ReadingStatus,
    Reassignment,
    Role,
    SecondReading,
    User,
)
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from massicot_core.errors import Refused, UserError

# A gap of more than this (points out of 20) between two readings is shown as large.
LARGE_GAP = Decimal(3)


class CoordinationRefused(Refused):
    status = 409

    def __init__(self, message: str = "", key: str = "", **values: object) -> None:
        super().__init__(None, key, message=message, **values)


def _name(user: User) -> str:
    return user.display_name or user.username


def actor_of(user: User) -> audit.Actor:
    return audit.Actor(user.id, user.role.value)


# ---------------------------------------------------------------- progress


@dataclass
class Counts:
    copies: int = 0
    marked: int = 0
    draft: int = 0

    @property
    def not_started(self) -> int:
        return self.copies - self.marked - self.draft

    @property
    def percent(self) -> int:
        return round(100 * self.marked / self.copies) if self.copies else 0

    def add(self, status: MarkingStatus | None) -> None:
        self.copies += 1
        if status == MarkingStatus.MARKED:
            self.marked += 1
        elif status == MarkingStatus.DRAFT:
            self.draft += 1


@dataclass
class CorrectorProgress:
    corrector_id: int
    name: str
    capacity: int
    counts: Counts
    lots: list[tuple[int, int]]  # (lot id, lot number)


@dataclass
class CentreProgress:
    uai: str
    name: str
    counts: Counts
    undispatched: int


@dataclass
class Progress:
    paper_id: int
    code: str
    title: str
    total: Counts
    undispatched: int
    correctors: list[CorrectorProgress]
    centres: list[CentreProgress]
    at: datetime


def paper_progress(session: Session, paper_id: int) -> Progress:
    """Copies marked / in progress / not started, per corrector (his lots now) and per centre."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise UserError(f"There is no paper #{paper_id}.")
    rows = session.execute(
        select(Copy.id, Copy.centre_id, CorrectionLot.corrector_id, Marking.status)
        .outerjoin(LotCopy, (LotCopy.copy_id == Copy.id) & (LotCopy.state == AssignmentState.ASSIGNED))
        .outerjoin(CorrectionLot, CorrectionLot.id == LotCopy.lot_id)
        .outerjoin(Marking, Marking.copy_id == Copy.id)
        .where(Copy.paper_id == paper_id)
    ).all()
    seats = session.execute(
        select(User, CorrectorPaper.capacity)
        .join(CorrectorPaper, CorrectorPaper.user_id == User.id)
        .where(CorrectorPaper.paper_id == paper_id, User.role == Role.CORRECTOR)
    ).all()
    by_corrector = {u.id: CorrectorProgress(u.id, _name(u), cap, Counts(), []) for u, cap in seats}
    for lot_id, number, corrector_id in session.execute(
        select(CorrectionLot.id, CorrectionLot.number, CorrectionLot.corrector_id)
        .where(CorrectionLot.paper_id == paper_id)
        .order_by(CorrectionLot.number)
    ):
        if corrector_id not in by_corrector:  # a former corrector of the paper still holding a lot
            user = session.get(User, corrector_id)
            by_corrector[corrector_id] = CorrectorProgress(corrector_id, _name(user), 0, Counts(), [])
        by_corrector[corrector_id].lots.append((lot_id, number))
    centres = {c.id: c for c in session.scalars(select(Centre))}
    by_centre: dict[int, CentreProgress] = {}
    total, undispatched = Counts(), 0
    for _copy_id, centre_id, corrector_id, status in rows:
        centre = by_centre.setdefault(
            centre_id, CentreProgress(centres[centre_id].uai, centres[centre_id].name, Counts(), 0)
        )
        centre.counts.add(status)
        total.add(status)
        if corrector_id is None:
            centre.undispatched += 1
            undispatched += 1
        else:
            by_corrector[corrector_id].counts.add(status)
    return Progress(
        paper_id=paper.id,
        code=paper.code,
        title=paper.title,
        total=total,
        undispatched=undispatched,
        correctors=sorted(by_corrector.values(), key=lambda c: c.name.lower()),
        centres=sorted(by_centre.values(), key=lambda c: c.uai),
        at=datetime.now(UTC),
    )


# ---------------------------------------------------------------- harmonisation


@dataclass
class CorrectorMarks:
    corrector_id: int
    name: str
    test: statistics.CorrectorTest
    question_means: dict[int, float]  # question id -> mean points
    marks: list[float]


@dataclass
class Distributions:
    paper_id: int
    code: str
    questions: list[marking.SchemeQuestion]
    pool_question_means: dict[int, float]
    pool_marks: list[float]
    result: statistics.Harmonisation
    correctors: list[CorrectorMarks] = field(default_factory=list)

    @property
    def flagged(self) -> list[CorrectorMarks]:
        return [c for c in self.correctors if c.test.flagged]


def marks_by_corrector(session: Session, paper_id: int) -> dict[int, list[tuple[int, float]]]:
    """(marking id, mark out of 20) of every copy marked with a real mark, per corrector.

    AB and blank copies are left out: their mark says nothing about how a corrector marks.
    """
    rows = session.execute(
        select(Marking.corrector_id, Marking.id, Marking.mark_20)
        .join(Copy, Copy.id == Marking.copy_id)
        .where(
            Copy.paper_id == paper_id,
            Marking.status == MarkingStatus.MARKED,
            Marking.special.is_(None),
            Marking.mark_20.is_not(None),
        )
        .order_by(Marking.corrector_id, Marking.id)
    ).all()
    out: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for corrector_id, marking_id, mark_20 in rows:
        out[corrector_id].append((marking_id, float(mark_20)))
    return dict(out)


def distributions(
    session: Session, paper_id: int, permutations: int = statistics.PERMUTATIONS
) -> Distributions:
    paper = session.get(Paper, paper_id)
    scheme = marking.load_scheme(session, paper_id)
    by_corrector = marks_by_corrector(session, paper_id)
    result = statistics.compare_correctors(
        {cid: [m for _mid, m in rows] for cid, rows in by_corrector.items()},
        permutations=permutations,
        seed=paper_id,  # the same page on every reload
    )
    marking_owner = {mid: cid for cid, rows in by_corrector.items() for mid, _m in rows}
    sums: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    pool_sums: dict[int, list[float]] = defaultdict(list)
    if marking_owner:
        for marking_id, question_id, points in session.execute(
            select(QuestionMark.marking_id, QuestionMark.question_id, QuestionMark.points).where(
                QuestionMark.marking_id.in_(list(marking_owner))
            )
        ):
            sums[marking_owner[marking_id]][question_id].append(float(points))
            pool_sums[question_id].append(float(points))
    names = {
        u.id: _name(u) for u in session.scalars(select(User).where(User.id.in_(list(by_corrector) or [-1])))
    }
    out = Distributions(
        paper_id=paper_id,
        code=paper.code,
        questions=list(scheme.questions),
        pool_question_means={q: sum(v) / len(v) for q, v in pool_sums.items()},
        pool_marks=[m for rows in by_corrector.values() for _mid, m in rows],
        result=result,
    )
    for test in result.tests:
        out.correctors.append(
            CorrectorMarks(
                corrector_id=test.corrector_id,
                name=names.get(test.corrector_id, "?"),
                test=test,
                question_means={q: sum(v) / len(v) for q, v in sums[test.corrector_id].items()},
                marks=[m for _mid, m in by_corrector[test.corrector_id]],
            )
        )
    out.correctors.sort(key=lambda c: c.name.lower())
    return out


def flag_sentence(c: CorrectorMarks, pool_mean: float, lang: str = "en") -> str:
    """One plain sentence about a corrector's marks, for the page."""
    t = c.test
    if t.p_value is None:
        if lang == "fr":
            return f"Trop peu de copies notées ({t.n}) pour juger."
        return f"Too few marked copies ({t.n}) to judge."
    gap = abs(t.difference)
    if lang == "fr":
        return _french_decimals(_flag_sentence_fr(t, gap, pool_mean))
    side = "below" if t.difference < 0 else "above"
    if t.flagged:
        return (
            f"Average {t.mean:.1f}, {gap:.1f} point(s) {side} the pool ({pool_mean:.1f}): a random lot "
            f"is this far off {_chance_en(t.p_value)}. Worth a look."
        )
    return f"Average {t.mean:.1f} ({gap:.1f} {side}): within what the random make-up of lots explains."


def _french_decimals(text: str) -> str:
    return re.sub(r"(\d)\.(\d)", r"\1,\2", text)


def _flag_sentence_fr(t: statistics.CorrectorTest, gap: float, pool_mean: float) -> str:
    side = "en dessous" if t.difference < 0 else "au-dessus"
    if t.flagged:
        return (
            f"Moyenne {t.mean:.1f}, soit {gap:.1f} point(s) {side} de l'ensemble ({pool_mean:.1f}) : "
            f"un tirage au hasard ne donne un tel écart que {_chance_fr(t.p_value)}. À regarder."
        )
    return f"Moyenne {t.mean:.1f} ({side} de {gap:.1f}) : écart compatible avec le hasard des lots."


def _chance_en(p: float) -> str:
    return f"about {p:.1%} of the time" if p >= 0.001 else "less than once in a thousand deals"


def _chance_fr(p: float) -> str:
    return f"dans environ {p:.1%} des cas" if p >= 0.001 else "moins d'une fois sur mille"


# ---------------------------------------------------------------- reassignment


@dataclass
class ReassignOutcome:
    moved: dict[int, list[str]]  # target corrector id -> copy ids moved to him
    kept_marked: list[str]  # copies already marked: they stay with their corrector
    new_lots: list[tuple[int, int]]  # (lot id, lot number)

    @property
    def moved_count(self) -> int:
        return sum(len(v) for v in self.moved.values())


def _paper_correctors(session: Session, paper_id: int) -> dict[int, User]:
    return {
        u.id: u
        for u in session.scalars(
            select(User)
            .join(CorrectorPaper, CorrectorPaper.user_id == User.id)
            .where(CorrectorPaper.paper_id == paper_id, User.role == Role.CORRECTOR)
        )
    }


def _candidate_school(session: Session, copy_ids: list[str]) -> dict[str, int | None]:
    return dict(
        session.execute(
            select(IdentityLink.copy_id, Candidate.establishment_id)
            .join(Candidate, Candidate.id == IdentityLink.candidate_id)
            .where(IdentityLink.copy_id.in_(copy_ids or [""]))
        ).all()
    )


def reassign(
    session: Session,
    paper_id: int,
    *,
    to_corrector_ids: list[int],
    actor: audit.Actor,
    by_name: str,
    lot_id: int | None = None,
    copy_ids: list[str] | None = None,
    reason: str = "",
) -> ReassignOutcome:
    """Move the copies of a lot (or chosen copies) that are not marked yet to other correctors.

    Marked copies stay where they are: they are their corrector's work and are paid to him.
    A copy in progress moves with what was entered so far (the new corrector continues it);
    the move is recorded (Reassignment, audit) with the state it was in. The copies are spread
    over the chosen correctors, fewest copies first, never to a corrector who teaches in the
    candidate's établissement. Nothing is moved unless every copy can go somewhere.
    """
    if (lot_id is None) == (copy_ids is None):
        raise CoordinationRefused("Say which copies to move: a whole lot, or a list of copy ids.")
    correctors = _paper_correctors(session, paper_id)
    targets = []
    for cid in dict.fromkeys(to_corrector_ids):
        user = correctors.get(cid)
        if user is None or not user.active:
            raise CoordinationRefused(
                "A corrector chosen to receive copies does not mark this paper (or his account is disabled)."
            )
        targets.append(user)
    if not targets:
        raise CoordinationRefused("Choose at least one corrector to receive the copies.")
    query = (
        select(LotCopy, CorrectionLot, Marking.status)
        .join(CorrectionLot, CorrectionLot.id == LotCopy.lot_id)
        .outerjoin(Marking, Marking.copy_id == LotCopy.copy_id)
        .where(CorrectionLot.paper_id == paper_id, LotCopy.state == AssignmentState.ASSIGNED)
        .order_by(LotCopy.copy_id)
    )
    if lot_id is not None:
        lot = session.get(CorrectionLot, lot_id)
        if lot is None or lot.paper_id != paper_id:
            raise CoordinationRefused(f"Lot #{lot_id} is not a lot of this paper.")
        query = query.where(LotCopy.lot_id == lot_id)
    else:
        wanted = sorted({c.strip().upper() for c in copy_ids or [] if c.strip()})
        query = query.where(LotCopy.copy_id.in_(wanted or [""]))
    rows = session.execute(query).all()
    if copy_ids is not None:
        found = {lc.copy_id for lc, _lot, _s in rows}
        unknown = [c for c in sorted({c.strip().upper() for c in copy_ids if c.strip()}) if c not in found]
        if unknown:
            raise CoordinationRefused(
                f"Not in any lot of this paper: {', '.join(unknown[:10])}. Check the copy numbers."
            )
    kept = [lc.copy_id for lc, _lot, status in rows if status == MarkingStatus.MARKED]
    movable = [(lc, lot, status) for lc, lot, status in rows if status != MarkingStatus.MARKED]
    schools = _candidate_school(session, [lc.copy_id for lc, _l, _s in movable])
    load = dict(
        session.execute(
            select(CorrectionLot.corrector_id, func.count(LotCopy.id))
            .join(LotCopy, LotCopy.lot_id == CorrectionLot.id)
            .where(CorrectionLot.paper_id == paper_id, LotCopy.state == AssignmentState.ASSIGNED)
            .group_by(CorrectionLot.corrector_id)
        ).all()
    )
    plan: dict[int, list[tuple[LotCopy, CorrectionLot, MarkingStatus | None]]] = {t.id: [] for t in targets}
    impossible = 0
    for lc, lot, status in movable:
        eligible = [
            t
            for t in targets
            if t.id != lot.corrector_id
            and (t.establishment_id is None or t.establishment_id != schools.get(lc.copy_id))
        ]
        if not eligible:
            impossible += 1
            continue
        best = min(eligible, key=lambda t: (load.get(t.id, 0) + len(plan[t.id]), t.id))
        plan[best.id].append((lc, lot, status))
    if impossible:
        raise CoordinationRefused(
            f"{impossible} of the {len(movable)} copies cannot go to any of the chosen correctors "
            "(one already holds them, or the dispatch rules forbid it: a corrector never marks "
            "candidates of the établissement where he teaches). Add another corrector to the choice. "
            "Nothing was moved."
        )
    now = datetime.now(UTC)
    next_number = (
        session.scalar(select(func.max(CorrectionLot.number)).where(CorrectionLot.paper_id == paper_id)) or 0
    ) + 1
    outcome = ReassignOutcome({}, kept, [])
    for target in targets:
        chosen = plan[target.id]
        if not chosen:
            continue
        # A new lot per receiving corrector: its slip lists exactly the copies he received.
        new_lot = CorrectionLot(
            paper_id=paper_id, corrector_id=target.id, number=next_number, seed=chosen[0][1].seed
        )
        session.add(new_lot)
        session.flush()
        next_number += 1
        moved = []
        for position, (lc, old_lot, status) in enumerate(chosen, start=1):
            state = "draft" if status == MarkingStatus.DRAFT else "todo"
            session.add(
                Reassignment(
                    copy_id=lc.copy_id,
                    paper_id=paper_id,
                    from_lot_id=old_lot.id,
                    to_lot_id=new_lot.id,
                    from_corrector_id=old_lot.corrector_id,
                    to_corrector_id=target.id,
                    state_when_moved=state,
                    reason=reason,
                    by_id=actor.user_id,
                    by_name=by_name,
                    at=now,
                )
            )
            lc.lot_id = new_lot.id
            lc.position = position
            lc.assigned_at = now
            moved.append((lc.copy_id, old_lot.id, old_lot.corrector_id, state))
        session.flush()
        audit.record(
            session,
            actor,
            "coordination.reassign",
            "lot",
            new_lot.id,
            {
                "paper_id": paper_id,
                "to_corrector_id": target.id,
                "reason": reason,
                "copies": [
                    {"copy": c, "from_lot": lot, "from_corrector": fc, "state": s} for c, lot, fc, s in moved
                ],
            },
        )
        outcome.moved[target.id] = [c for c, *_ in moved]
        outcome.new_lots.append((new_lot.id, new_lot.number))
    return outcome


# ---------------------------------------------------------------- second reading


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
    return marking.fmt(m.mark_20), m.mark_20


def request_second_reading(
    session: Session, copy_id: str, reader_id: int, actor: audit.Actor, reason: str = ""
) -> SecondReading:
    copy = session.get(Copy, copy_id.strip().upper())
    if copy is None:
        raise CoordinationRefused(f"There is no copy {copy_id}.")
    if copy.status in (CopyStatus.ABSENT, CopyStatus.BLANK):
        raise CoordinationRefused(
            f"Copy {copy.id} was recorded {copy.status.value} at the centre: its mark does not depend "
            "on a corrector, a second reading would add nothing."
        )
    reader = _paper_correctors(session, copy.paper_id).get(reader_id)
    if reader is None or not reader.active:
        raise CoordinationRefused("The second reader must be an active corrector of this paper.")
    first = session.scalar(select(Marking).where(Marking.copy_id == copy.id))
    holder = marking.assigned_corrector(session, copy.id)
    if reader.id in {holder, first.corrector_id if first else None}:
        raise CoordinationRefused(
            f"{_name(reader)} marks this copy already: a second reading needs another corrector."
        )
    school = _candidate_school(session, [copy.id]).get(copy.id)
    if reader.establishment_id is not None and reader.establishment_id == school:
        raise CoordinationRefused(
            f"The dispatch rules forbid giving this copy to {_name(reader)}; choose another corrector."
        )
    open_one = session.scalar(
        select(SecondReading.id).where(
            SecondReading.copy_id == copy.id, SecondReading.status != ReadingStatus.DECIDED
        )
    )
    if open_one is not None:
        raise CoordinationRefused(f"Copy {copy.id} already has a second reading under way.")
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
        raise CoordinationRefused("Not found, or not yours.")
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
        raise CoordinationRefused(
            "The coordinator has already decided on this copy; the second mark is closed."
        )
    paper = session.get(Paper, reading.paper_id)
    marking.check_open(paper, now or datetime.now(UTC))
    scheme = marking.load_scheme(session, reading.paper_id)
    points: dict[int, Decimal] = {}
    for q in scheme.questions:
        typed = (marks.get(q.id) or "").strip()
        if not typed:
            raise CoordinationRefused(f"{q.label}: give a mark (0 is a mark) before saving.")
        points[q.id] = marking.check_points(q, marking.parse_points(typed))
    if not appreciation.strip():
        raise CoordinationRefused("Write an overall appreciation: it explains the mark.")
    outcome = marking.evaluate(scheme, points, appreciation, None)
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
        raise CoordinationRefused("Not found, or not yours.")
    if reading.status != ReadingStatus.DONE:
        raise CoordinationRefused(
            "The second corrector has not entered his mark yet."
            if reading.status == ReadingStatus.REQUESTED
            else "This second reading is already decided."
        )
    first = session.scalar(select(Marking).where(Marking.copy_id == reading.copy_id))
    _text, first_20 = _first_mark(first)
    try:
        picked = ReadingChoice(choice)
    except ValueError:
        raise CoordinationRefused(
            "Choose: keep the first mark, take the second, or set another mark."
        ) from None
    if picked == ReadingChoice.FIRST:
        if first_20 is None:
            raise CoordinationRefused(
                "The first corrector has not finished this copy: there is no first mark yet."
            )
        mark = first_20
    elif picked == ReadingChoice.SECOND:
        mark = reading.mark_20
    else:
        mark = parse_mark_20(other_mark)
        if not reason.strip():
            raise CoordinationRefused("Say why you set another mark: the reason is kept with it.")
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
    value = marking.parse_points(text or "")
    if value < 0 or value > 20 or (value * 2) % 1 != 0:
        raise CoordinationRefused(
            f"{text!r} is not a mark: give 0 to 20 in whole or half points (e.g. 12,5)."
        )
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
                reader_name=_name(users[r.reader_id]),
                first_corrector_name=_name(first_user) if first_user else "–",
                status=r.status.value,
                reason=r.reason,
                first_mark=first_text,
                second_mark=marking.fmt(r.mark_20) if r.mark_20 is not None else "–",
                gap=gap,
                large_gap=gap is not None and abs(gap) > LARGE_GAP,
                choice=r.choice.value if r.choice else None,
                decided_mark=marking.fmt(r.decided_mark_20) if r.decided_mark_20 is not None else "",
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


def correctors_of_paper(session: Session, paper_id: int) -> list[tuple[int, str]]:
    return sorted(
        ((u.id, _name(u)) for u in _paper_correctors(session, paper_id).values() if u.active),
        key=lambda pair: pair[1].lower(),
    )
