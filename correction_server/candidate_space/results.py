"""What a candidate may see of each paper he sat, and the one function that says his result.

The order of the rules matters (DOMAIN rules 11, 18):
1. under a hold (fraud procedure) every paper says "résultats réservés" and nothing else — not
   even whether results are published, so the page gives no hint;
2. before the paper's results are published: nothing but "not published yet";
3. after the consultation year (one year after publication): nothing but when it closed;
4. otherwise his result, and his copy when it was marked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.closing.fraud import result_withheld
from correction_server.closing.publication import one_year_after, publication_of
from correction_server.marking.rules import fmt
from correction_server.models import (
    AbsenceJustification,
    Candidate,
    Copy,
    IdentityLink,
    JuryDecision,
    Marking,
    MarkingStatus,
    Paper,
    RollEntry,
)


class Access(enum.StrEnum):
    WITHHELD = "withheld"
    NOT_PUBLISHED = "not_published"
    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True)
class ResultFacts:
    """What the result of one copy is made of. `justified_absence` is set by the jury's record
    of a justified absence (DOMAIN rule 19) when that record exists."""

    marked: bool
    special: str | None = None  # "AB", "00" (models.SpecialMark values)
    corrector_mark_20: Decimal | None = None
    jury_mark_20: Decimal | None = None
    justified_absence: bool = False


@dataclass(frozen=True)
class Result:
    """A result in the catalogue's words: `key` (candidate.result.*) and its values."""

    key: str
    values: dict[str, str] = field(default_factory=dict)
    jury_changed: bool = False


# The words of each special mark. A new kind of result (e.g. another special mark) is one line here.
SPECIAL_RESULTS = {"AB": "candidate.result.absent", "00": "candidate.result.blank"}


def result_text(facts: ResultFacts) -> Result:
    """THE one place that decides which result a candidate reads for a copy."""
    if facts.justified_absence:
        return Result("candidate.result.justified_absence")
    if not facts.marked:
        return Result("candidate.result.not_available")
    if facts.special is not None:
        return Result(SPECIAL_RESULTS.get(facts.special, "candidate.result.special"), {"mark": facts.special})
    corrector = fmt(facts.corrector_mark_20)
    if facts.jury_mark_20 is not None and facts.jury_mark_20 != facts.corrector_mark_20:
        return Result(
            "candidate.result.jury",
            {"mark": fmt(facts.jury_mark_20), "corrector": corrector},
            jury_changed=True,
        )
    return Result("candidate.result.mark", {"mark": corrector})


@dataclass(frozen=True)
class PaperLine:
    """One paper on the candidate's page: what he may see of it."""

    paper_id: int
    code: str
    title: str
    access: Access
    published_at: datetime | None = None
    closes_at: datetime | None = None
    result: Result | None = None
    copy_id: str | None = None  # only when access is OPEN and the copy was marked (never shown)


def access_of(
    session: Session, candidate_id: int, paper_id: int, now: datetime
) -> tuple[Access, datetime | None, datetime | None]:
    """The rules 1–3 above, with the publication day and the day the consultation closes."""
    if result_withheld(session, candidate_id, paper_id):
        return Access.WITHHELD, None, None
    published = publication_of(session, paper_id)
    if published is None:
        return Access.NOT_PUBLISHED, None, None
    closes = one_year_after(published.published_at)
    if now > closes:
        return Access.CLOSED, published.published_at, closes
    return Access.OPEN, published.published_at, closes


def copy_facts(session: Session, copy_id: str) -> tuple[ResultFacts, Marking | None, JuryDecision | None]:
    first = session.scalar(select(Marking).where(Marking.copy_id == copy_id))
    jury = session.scalar(
        select(JuryDecision).where(JuryDecision.copy_id == copy_id).order_by(JuryDecision.id.desc()).limit(1)
    )
    marked = first is not None and first.status == MarkingStatus.MARKED
    facts = ResultFacts(
        marked=marked,
        special=first.special.value if marked and first.special is not None else None,
        corrector_mark_20=first.mark_20 if marked else None,
        jury_mark_20=jury.mark_20 if jury is not None else None,
        justified_absence=_absence_justified(session, copy_id),
    )
    return facts, first, jury


def _absence_justified(session: Session, copy_id: str) -> bool:
    """Whether the office recorded this copy's candidate's absence as justified (closing.absence)."""
    found = session.scalar(
        select(AbsenceJustification.id)
        .join(IdentityLink, IdentityLink.candidate_id == AbsenceJustification.candidate_id)
        .join(Copy, Copy.id == IdentityLink.copy_id)
        .where(IdentityLink.copy_id == copy_id, AbsenceJustification.paper_id == Copy.paper_id)
        .limit(1)
    )
    return found is not None


def own_copy_id(session: Session, candidate_id: int, paper_id: int) -> str | None:
    """The candidate's one copy of a paper (None when he has none, or several still to sort out)."""
    ids = list(
        session.scalars(
            select(Copy.id)
            .join(IdentityLink, IdentityLink.copy_id == Copy.id)
            .where(Copy.paper_id == paper_id, IdentityLink.candidate_id == candidate_id)
        )
    )
    return ids[0] if len(ids) == 1 else None


def papers_of_candidate(session: Session, candidate: Candidate, now: datetime) -> list[PaperLine]:
    """Every paper the candidate is registered for, as he may see it today."""
    papers = session.scalars(
        select(Paper)
        .join(RollEntry, RollEntry.paper_id == Paper.id)
        .where(RollEntry.candidate_id == candidate.id)
        .order_by(Paper.sitting_date, Paper.code)
    ).all()
    lines = []
    for paper in papers:
        access, published, closes = access_of(session, candidate.id, paper.id, now)
        if access != Access.OPEN:
            lines.append(PaperLine(paper.id, paper.code, paper.title, access, published, closes))
            continue
        copy_id = own_copy_id(session, candidate.id, paper.id)
        if copy_id is None:
            lines.append(
                PaperLine(
                    paper.id,
                    paper.code,
                    paper.title,
                    access,
                    published,
                    closes,
                    Result("candidate.result.no_copy"),
                )
            )
            continue
        facts, _, _ = copy_facts(session, copy_id)
        lines.append(
            PaperLine(
                paper.id,
                paper.code,
                paper.title,
                access,
                published,
                closes,
                result_text(facts),
                copy_id if facts.marked else None,
            )
        )
    return lines
