"""The marking scheme (barème) is locked once the standardisation meeting has fixed how it applies.

Before the lock no mark is accepted; after it the scheme cannot be re-imported or changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from correction_server.audit.log import Actor, record
from correction_server.models import Paper, Question
from correction_server.web.clock import local_text
from massicot_core.errors import Refused


@dataclass(frozen=True)
class SchemeLine:
    label: str
    max_points: Decimal
    step: Decimal


@dataclass(frozen=True)
class SchemeState:
    """What the coordinator checks before locking: the questions, their total, and the lock."""

    paper_id: int
    code: str
    max_mark: Decimal
    lines: tuple[SchemeLine, ...]
    locked_at: datetime | None

    @property
    def total(self) -> Decimal:
        return sum((line.max_points for line in self.lines), Decimal(0))

    @property
    def lockable(self) -> bool:
        return self.locked_at is None and bool(self.lines)


class SchemeRefused(Refused):
    """The barème cannot be shown or locked (no paper, no barème yet, locked already)."""

    status = 409

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(None, f"marking.err.{key}", **values)


def scheme_state(session: Session, paper_id: int) -> SchemeState:
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise SchemeRefused("scheme_no_paper", paper=paper_id)
    rows = session.execute(
        select(Question.label, Question.max_points, Question.step)
        .where(Question.paper_id == paper_id)
        .order_by(Question.position)
    ).all()
    return SchemeState(
        paper.id,
        paper.code,
        paper.max_mark,
        tuple(SchemeLine(label, top, step) for label, top, step in rows),
        paper.scheme_locked_at,
    )


def _locked_already(paper: Paper) -> SchemeRefused:
    return SchemeRefused("scheme_locked", paper=paper.code, since=local_text(paper.scheme_locked_at))


def lock_scheme(session: Session, paper: Paper, actor: Actor) -> datetime:
    if paper.scheme_locked_at is not None:
        raise _locked_already(paper)
    if not paper.questions:
        raise SchemeRefused("no_scheme", paper=paper.code)
    now = datetime.now(UTC)
    # Conditional on "not locked yet" in the database itself: of two people locking at the same
    # moment (coordinator on the page, office on the command line), only one lock is recorded.
    done = session.execute(
        update(Paper)
        .where(Paper.id == paper.id, Paper.scheme_locked_at.is_(None))
        .values(scheme_locked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        session.refresh(paper)
        raise _locked_already(paper)
    paper.scheme_locked_at = now
    record(
        session,
        actor,
        "scheme.lock",
        "paper",
        paper.code,
        {"questions": [[q.label, str(q.max_points), str(q.step)] for q in paper.questions]},
    )
    return paper.scheme_locked_at
