"""What the office's closing pages show, read in one place: the routes render these."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.closing.holds import HoldView, open_holds
from correction_server.closing.payment import PaymentLine, payment_lines
from correction_server.closing.publication import one_year_after, publication_of
from correction_server.closing.reconcile import Reconciliation, reconcile
from correction_server.models import Paper, ResultsPublication


@dataclass(frozen=True)
class PaperClosingView:
    """One paper's closing page: its reconciliation, and the publication of its results."""

    recon: Reconciliation
    published: ResultsPublication | None
    until: datetime | None  # the end of the consultation year
    today: str


@dataclass(frozen=True)
class ClosingHomeView:
    """The closing page: every paper with its reconciliation, the holds, the payment counts."""

    papers: list[Paper]
    recons: dict[int, Reconciliation]
    holds: list[HoldView]
    payment: list[PaymentLine]


def as_context(view: PaperClosingView | ClosingHomeView) -> dict[str, object]:
    """The view's fields as a template's names (the objects themselves, not copies of them)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}


def has_paper(session: Session, paper_id: int) -> bool:
    return session.get(Paper, paper_id) is not None


def paper_closing_view(session: Session, paper_id: int) -> PaperClosingView | None:
    """None when there is no such paper."""
    if not has_paper(session, paper_id):
        return None
    published = publication_of(session, paper_id)
    return PaperClosingView(
        recon=reconcile(session, paper_id),
        published=published,
        until=one_year_after(published.published_at) if published else None,
        today=date.today().isoformat(),
    )


def closing_home_view(session: Session) -> ClosingHomeView:
    papers = list(session.scalars(select(Paper).order_by(Paper.code)))
    return ClosingHomeView(
        papers=papers,
        recons={p.id: reconcile(session, p.id) for p in papers},
        holds=open_holds(session),
        payment=payment_lines(session),
    )
