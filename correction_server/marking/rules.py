"""The rules of a mark, with no database: the barème's arithmetic, what a mark may be, AB and 00,
when a copy counts as marked, and when marks are open.

Fiche 5 of the exams memento, and the BTS circular:
- a question gets 0 to its maximum, in its barème step (whole or half points);
- the total is the sum; a paper whose barème is not out of 20 is also converted to 20,
  to the nearest half point, a tie going to the candidate;
- `AB` only for a copy recorded absent at the centre, `00` only for a copy recorded blank,
  each set by an explicit request, never by typing in a mark field;
- a copy counts as marked once every question has a mark and an overall appreciation is written;
- marks are accepted only inside the paper's correction window and once the coordinator has
  locked the barème after the réunion d'entente.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from correction_server.models import CopyStatus, MarkingStatus, Paper, SpecialMark
from massicot_core.errors import Refused

TWENTY = Decimal(20)
HALF = Decimal("0.5")


class MarkingRefused(Refused):
    """A mark or a save the rules refuse, answered with `status` and `{"error": code, "message": ...}`.

    `key` names the message in the words catalogue ("marking.err.<key>"), so the page shows it
    in the user's language; `message` is the English sentence when no key is given.
    """

    status = 422
    code = "invalid"

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(None, f"marking.err.{key}" if key else "", message=message, **values)

    def answer(self, lang: str | None = None) -> dict[str, Any]:
        return {"error": self.code, "message": self.words(lang)}


class MarkingClosed(MarkingRefused):
    """Outside the correction window, or the barème is not locked yet."""

    status = 423
    code = "closed"


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
        raise MarkingRefused(
            f"Question {question_id} is not in the barème of paper {self.code}.",
            "not_in_scheme",
            question=question_id,
            paper=self.code,
        )


def parse_points(text: str | Decimal | float | int) -> Decimal:
    """A mark as typed: "3", "2.5" or "2,5" (French decimal comma)."""
    if isinstance(text, Decimal):
        return text
    raw = str(text).strip().replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
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


def closed_refusal(paper: Paper, now: datetime) -> MarkingClosed | None:
    """Why marks of `paper` are not accepted at `now` (in plain words), or None when they are."""
    if paper.scheme_locked_at is None:
        return MarkingClosed(
            f"Marks for {paper.code} are not open yet: the coordinator locks the barème after the "
            "réunion d'entente, then you can mark. You can already read the copies.",
            "not_locked",
            paper=paper.code,
        )
    opens, closes = paper.window_opens, paper.window_closes
    if opens is None or closes is None:
        return MarkingClosed(
            f"The exam office has not set the correction window of {paper.code} yet; marks open once it has.",
            "no_window",
            paper=paper.code,
        )
    if now < opens:
        return MarkingClosed(
            f"The correction window of {paper.code} opens on {_when(opens)}.",
            "not_yet",
            paper=paper.code,
            when=_when(opens),
        )
    if now > closes:
        return MarkingClosed(
            f"The correction window of {paper.code} closed on {_when(closes)}. "
            "Marks can no longer be changed; contact the exam office if a mark is wrong.",
            "window_closed",
            paper=paper.code,
            when=_when(closes),
        )
    return None


def check_open(paper: Paper, now: datetime) -> None:
    """Refuse, in plain words, marks outside the window or before the barème is locked."""
    refusal = closed_refusal(paper, now)
    if refusal is not None:
        raise refusal


def _when(moment: datetime) -> str:
    from correction_server.web.clock import local_text

    return local_text(moment)


def utcnow() -> datetime:
    return datetime.now(UTC)
