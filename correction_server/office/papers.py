"""The paper import: a paper of an exam session with its barème (a YAML file).

Parsing is pure: the file's text in, a `PaperSpec` or a list of problems out, each problem with
the line of the key it is about. `apply_paper` creates or updates the session, the paper and its
barème in ONE transaction: a file with any problem imports nothing, and importing the same file
again changes nothing. Once the barème is locked (standardisation held) or marks are recorded on
a question, the questions can no longer change in a way that would lose them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.models import ExamSession, Paper, Question, QuestionMark
from correction_server.office.import_report import ImportRejected, Problem, unit_of_work
from correction_server.office.tables import parse_date
from correction_server.web.clock import local_text
from massicot_core.errors import UserError
from massicot_core.identifiers import PAPER_CODE_RE

PAPER_KEYS = (
    "session",
    "code",
    "title",
    "date",
    "duration_minutes",
    "max_mark",
    "pages",
    "window_opens",
    "window_closes",
    "scan_deadline",
    "questions",
)
REQUIRED_PAPER_KEYS = ("session", "code", "title", "max_mark", "questions")
QUESTION_KEYS = ("label", "max", "step")


@dataclass(frozen=True)
class QuestionSpec:
    label: str
    max_points: Decimal
    step: Decimal


@dataclass(frozen=True)
class PaperSpec:
    session: str
    code: str
    title: str
    sitting_date: date | None
    duration_minutes: int
    max_mark: Decimal
    pages_per_copy: int
    window_opens: datetime | None
    window_closes: datetime | None
    questions: tuple[QuestionSpec, ...]
    # The centres' pushes are due by then; None: not given (the office may set it in the console).
    scan_deadline: datetime | None = None


@dataclass(frozen=True)
class ParsedPaper:
    origin: str
    paper: PaperSpec | None
    problems: tuple[Problem, ...]


def parse_paper(text: str, origin: str) -> ParsedPaper:
    """Check a paper YAML file; every problem carries the line of the key it is about."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        reason = getattr(exc, "problem", None) or str(exc)
        return ParsedPaper(origin, None, (Problem(line, f"this is not valid YAML: {reason}"),))
    if data is None:
        return ParsedPaper(origin, None, (Problem(0, "the file is empty"),))
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return ParsedPaper(origin, None, (Problem(1, "the file must be a list of “key: value” lines"),))
    lines = _key_lines(node)
    problems: list[Problem] = []
    checker = _PaperChecker(lines, problems)
    for key in data:
        if key not in PAPER_KEYS:
            problems.append(
                Problem(lines.get(key, 0), f"unknown key “{key}”; the keys are: {', '.join(PAPER_KEYS)}")
            )
    for key in REQUIRED_PAPER_KEYS:
        if data.get(key) in (None, ""):
            problems.append(Problem(lines.get(key, 0), f"“{key}” is missing"))
    session = checker.text(data, "session")
    code = checker.text(data, "code").upper()
    if code and not PAPER_CODE_RE.match(code):
        checker.bad("code", f"paper code “{code}” must be letters, digits and '-', at most 12, e.g. U3")
    title = checker.text(data, "title")
    sitting_date = checker.day(data, "date")
    duration = checker.whole(data, "duration_minutes", default=0, low=0, high=24 * 60)
    pages = checker.whole(data, "pages", default=4, low=1, high=64)
    max_mark = checker.points(data, "max_mark")
    opens = checker.moment(data, "window_opens")
    closes = checker.moment(data, "window_closes")
    if opens and closes and closes <= opens:
        checker.bad("window_closes", "window_closes must come after window_opens")
    questions = _parse_questions(data.get("questions"), node, lines.get("questions", 0), problems)
    if max_mark is not None and questions and not problems:
        total = sum((q.max_points for q in questions), Decimal(0))
        if total != max_mark:
            checker.bad(
                "max_mark",
                f"the questions add up to {_fmt(total)} points but max_mark is {_fmt(max_mark)}",
            )
    deadline = checker.moment(data, "scan_deadline")
    if problems:
        return ParsedPaper(origin, None, tuple(problems))
    spec = PaperSpec(
        session=session,
        code=code,
        title=title,
        sitting_date=sitting_date,
        duration_minutes=duration,
        max_mark=max_mark,
        pages_per_copy=pages,
        window_opens=opens,
        window_closes=closes,
        questions=tuple(questions),
        scan_deadline=deadline,
    )
    return ParsedPaper(origin, spec, ())


def _key_lines(node: yaml.MappingNode) -> dict[Any, int]:
    return {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass
class _PaperChecker:
    """Turns YAML values into typed values, recording a Problem at the key's line when wrong."""

    lines: dict[Any, int]
    problems: list[Problem]

    def bad(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.lines.get(key, 0), reason))

    def text(self, data: dict, key: str) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if isinstance(value, dict | list):
            self.bad(key, f"“{key}” must be a single value")
            return ""
        return str(value).strip()

    def day(self, data: dict, key: str) -> date | None:
        value = data.get(key)
        if value is None or isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return parse_date(str(value).strip())
        except ValueError as exc:
            self.bad(key, f"{key} {exc}")
            return None

    def whole(self, data: dict, key: str, default: int, low: int, high: int) -> int:
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(key, f"{key} must be a whole number from {low} to {high}, not “{value}”")
            return default
        return value

    def points(self, data: dict, key: str) -> Decimal | None:
        if data.get(key) is None:
            return None
        value, reason = to_points(data[key])
        if reason:
            self.bad(key, f"{key} {reason}")
        return value

    def moment(self, data: dict, key: str) -> datetime | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, datetime):
            try:
                value = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.bad(key, f"{key} “{value}” must be a date and time like 2024-05-22T08:00:00+02:00")
                return None
        if value.tzinfo is None:
            self.bad(key, f"{key} needs its time zone, e.g. 2024-05-22T08:00:00+02:00")
            return None
        return value


def to_points(value: Any) -> tuple[Decimal | None, str | None]:
    """A mark in whole or half points (2, 2.5, "2,5"); (None, reason) when it is not one."""
    if isinstance(value, bool):
        return None, f"“{value}” is not a number"
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None, f"“{value}” is not a number"
    if not number.is_finite() or number <= 0:
        return None, f"“{value}” must be more than 0"
    if number * 2 != (number * 2).to_integral_value():
        return None, f"“{value}” is not in whole or half points"
    return number, None


def _parse_questions(
    value: Any, root: yaml.MappingNode, line: int, problems: list[Problem]
) -> list[QuestionSpec]:
    if value is None:
        return []
    items_node = next((v for k, v in root.value if getattr(k, "value", None) == "questions"), None)
    if not isinstance(value, list) or not isinstance(items_node, yaml.SequenceNode) or not value:
        problems.append(
            Problem(line, "questions must be a list of lines “- {label: ..., max: ..., step: ...}”")
        )
        return []
    questions: list[QuestionSpec] = []
    labels: dict[str, int] = {}
    for item, item_node in zip(value, items_node.value, strict=True):
        item_line = item_node.start_mark.line + 1
        if not isinstance(item, dict) or not isinstance(item_node, yaml.MappingNode):
            problems.append(Problem(item_line, "a question must have label, max and optionally step"))
            continue
        lines = _key_lines(item_node)
        before = len(problems)
        for key in item:
            if key not in QUESTION_KEYS:
                problems.append(
                    Problem(
                        lines.get(key, item_line), f"unknown key “{key}” in a question; use label, max, step"
                    )
                )
        label = str(item.get("label") or "").strip()
        if not label:
            problems.append(Problem(item_line, "the question has no label"))
        elif label in labels:
            problems.append(Problem(item_line, f"question “{label}” is already on line {labels[label]}"))
        else:
            labels[label] = item_line
        if item.get("max") is None:
            problems.append(Problem(item_line, f"question “{label}” has no max"))
            max_points = None
        else:
            max_points, reason = to_points(item["max"])
            if reason:
                problems.append(Problem(lines.get("max", item_line), f"question “{label}”: max {reason}"))
        step, reason = to_points(item.get("step", "0.5"))
        if reason or step not in (Decimal("0.5"), Decimal(1)):
            problems.append(
                Problem(lines.get("step", item_line), f"question “{label}”: step must be 0.5 or 1")
            )
        elif max_points is not None and max_points % step:
            problems.append(
                Problem(
                    lines.get("max", item_line),
                    f"question “{label}”: max {_fmt(max_points)} is not a multiple of its step {_fmt(step)}",
                )
            )
        if len(problems) == before:
            questions.append(QuestionSpec(label=label, max_points=max_points, step=step))
    return questions


@dataclass(frozen=True)
class PaperImportSummary:
    session: str
    code: str
    outcome: str  # "created", "updated" or "unchanged"
    questions: int

    @property
    def changed(self) -> bool:
        return self.outcome != "unchanged"

    def __str__(self) -> str:
        if not self.changed:
            return (
                f"paper {self.code} of “{self.session}”: nothing to change, "
                "the database already holds this file."
            )
        return f"paper {self.code} of “{self.session}” {self.outcome}, barème of {self.questions} questions."


def apply_paper(
    factory: sessionmaker[Session], parsed: ParsedPaper, dry_run: bool = False
) -> PaperImportSummary:
    """Create or update the session, the paper and its barème in one transaction (dry_run: every
    check, then rolled back)."""
    if parsed.problems or parsed.paper is None:
        raise ImportRejected(parsed.origin, parsed.problems)
    spec = parsed.paper
    with unit_of_work(factory, dry_run) as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.name == spec.session)).one_or_none()
        created = exam is None
        if exam is None:
            exam = ExamSession(name=spec.session)
            db.add(exam)
            db.flush()
        paper = db.scalars(
            select(Paper).where(Paper.session_id == exam.id, Paper.code == spec.code)
        ).one_or_none()
        if paper is None:
            created = True
            paper = Paper(session=exam, code=spec.code)
            db.add(paper)
        fields_changed = _set_paper_fields(paper, spec)
        scheme_changed, problems = _set_questions(db, paper, spec.questions)
        if problems:
            raise ImportRejected(parsed.origin, problems)
        outcome = "created" if created else "updated" if fields_changed or scheme_changed else "unchanged"
        return PaperImportSummary(spec.session, spec.code, outcome, len(spec.questions))


def _set_paper_fields(paper: Paper, spec: PaperSpec) -> bool:
    values = {
        "title": spec.title,
        "sitting_date": spec.sitting_date,
        "duration_minutes": spec.duration_minutes,
        "max_mark": spec.max_mark,
        "pages_per_copy": spec.pages_per_copy,
        "window_opens": spec.window_opens,
        "window_closes": spec.window_closes,
    }
    if spec.scan_deadline is not None:  # a file without it keeps the one set in the console
        values["scan_deadline"] = spec.scan_deadline
    changed = False
    for key, value in values.items():
        if getattr(paper, key) != value:
            setattr(paper, key, value)
            changed = True
    return changed


def _set_questions(db: Session, paper: Paper, specs: Sequence[QuestionSpec]) -> tuple[bool, list[Problem]]:
    """Update the barème in place (question rows keep their ids, so marks stay attached)."""
    current = [(q.label, q.max_points, q.step) for q in paper.questions]
    wanted = [(q.label, q.max_points, q.step) for q in specs]
    if current == wanted:
        return False, []
    if paper.scheme_locked_at is not None:
        return False, [
            Problem(
                0,
                f"the barème of {paper.code} was locked on {local_text(paper.scheme_locked_at)} "
                "(standardisation meeting held); its questions can no longer change",
            )
        ]
    dropped = [q.id for q in paper.questions[len(specs) :] if q.id is not None]
    if dropped and db.scalars(select(QuestionMark.id).where(QuestionMark.question_id.in_(dropped))).first():
        return False, [Problem(0, f"copies of {paper.code} are already marked: no question can be removed")]
    for position, spec in enumerate(specs, start=1):
        if position <= len(paper.questions):
            question = paper.questions[position - 1]
            question.label, question.max_points, question.step = spec.label, spec.max_points, spec.step
        else:
            paper.questions.append(
                Question(position=position, label=spec.label, max_points=spec.max_points, step=spec.step)
            )
    del paper.questions[len(specs) :]
    return True, []


def import_paper(
    factory: sessionmaker[Session], path: Path, dry_run: bool = False, origin: str | None = None
) -> PaperImportSummary:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    data = path.read_bytes()
    origin = origin or path.name
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            origin, [Problem(line, "the file is not UTF-8 text: save it as UTF-8")]
        ) from None
    return apply_paper(factory, parse_paper(text, origin), dry_run)
