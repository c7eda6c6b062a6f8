"""When a paper's results were published: the candidates' consultation year starts then, and
the legal year after which page images go (retention) ends one year later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.fraud import result_withheld
from correction_server.closing.records import who
from correction_server.closing.refusals import ClosingRefused
from correction_server.models import ResultsPublication


def one_year_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def publication_of(session: Session, paper_id: int) -> ResultsPublication | None:
    return session.scalar(select(ResultsPublication).where(ResultsPublication.paper_id == paper_id))


def publish_results(
    session: Session, paper_id: int, when: datetime, actor: audit.Actor, by_name: str
) -> ResultsPublication:
    """The day results were published: the candidates' consultation year starts then."""
    if when.tzinfo is None:
        raise ClosingRefused("closing.err.publish_zone")
    row = publication_of(session, paper_id)
    if row is not None:
        raise ClosingRefused("closing.err.already_published", published=row.published_at)
    row = ResultsPublication(paper_id=paper_id, published_at=when, by_name=who(by_name))
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "closing.publish", "paper", paper_id, {"published_at": when, "by": row.by_name}
    )
    return row


def consultation_open(session: Session, paper_id: int, candidate_id: int, now: datetime) -> None:
    """Refuse, in plain words, a consultation outside the year after results, or under a hold."""
    published = publication_of(session, paper_id)
    if published is None:
        raise ClosingRefused("closing.err.not_published")
    closes = one_year_after(published.published_at)
    if now > closes:
        raise ClosingRefused("closing.err.consultation_over", closes=closes, published=published.published_at)
    if result_withheld(session, candidate_id, paper_id):
        raise ClosingRefused("closing.err.consultation_held")
