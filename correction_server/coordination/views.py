"""What the coordinator's pages (and the second reader's) show, read for them.

Read models only: the routes of correction_server.coordination.web and .standardisation_web ask
these and render. Nothing here reads a candidate's identity: the coordinator sees correctors,
copy ids and centres, never who wrote a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.auth.access import papers_of
from correction_server.coordination import plots
from correction_server.coordination.harmonisation import distributions, flag_sentence, local_decimals
from correction_server.coordination.people import correctors_of_paper
from correction_server.coordination.progress import shown_progress
from correction_server.coordination.second_reading import readings_of_paper
from correction_server.marking import comments
from correction_server.marking.reading import load_scheme
from correction_server.marking.rules import fmt
from correction_server.marking.scheme import scheme_state
from correction_server.models import Page, Paper, ReadingStatus, Role, SecondReading, User
from correction_server.models.dispatch import CorrectionLot
from massicot_core.words import translate

# ---------------------------------------------------------------- the coordinator's papers


def papers_for(session: Session, user: User) -> list[Paper]:
    """The papers the user supervises: those he coordinates, every paper for the office."""
    query = select(Paper).order_by(Paper.code)
    if user.role != Role.OFFICE:
        query = query.where(Paper.id.in_(papers_of(session, user) or {-1}))
    return list(session.scalars(query))


def number_formatter(lang: str) -> Callable[[float | None], str]:
    """One decimal, with the French decimal comma on French pages; a dash for no value."""

    def fmt_num(value: float | None) -> str:
        if value is None or value != value:  # None or NaN
            return "–"
        return local_decimals(f"{value:.1f}", lang)

    return fmt_num


def _lots_of_paper(session: Session, paper_id: int, names: dict[int, str]) -> list[tuple[int, int, str]]:
    """(lot id, lot number, corrector's name) of every lot of the paper, by number."""
    lots = session.execute(
        select(CorrectionLot.id, CorrectionLot.number, CorrectionLot.corrector_id)
        .where(CorrectionLot.paper_id == paper_id)
        .order_by(CorrectionLot.number)
    ).all()
    return [(lot_id, number, names.get(cid, "?")) for lot_id, number, cid in lots]


def paper_context(session: Session, paper_id: int, lang: str) -> dict[str, object]:
    """The coordinator's page of a paper: progress, harmonisation, reassignment, second reading,
    and the standardisation meeting's barème lock and shared bank."""
    progress = shown_progress(session, paper_id)
    dist = distributions(session, paper_id)
    result = dist.result
    rows = [
        plots.MeanRow(c.name, c.test.n, c.test.mean, c.test.band_low, c.test.band_high, c.test.flagged)
        for c in dist.correctors
    ]
    title = translate(lang, "coordination.chart.title")
    desc = translate(lang, "coordination.chart.desc")
    chart = plots.means_chart(rows, result.pool_mean, title, desc) if rows else ""
    sparks = {
        c.corrector_id: plots.histogram(c.marks, dist.pool_marks, f"{c.name}: {len(c.marks)}", c.test.flagged)
        for c in dist.correctors
    }
    sentences = {c.corrector_id: flag_sentence(c, result.pool_mean, lang) for c in dist.correctors}
    names = {c.corrector_id: c.name for c in progress.correctors}
    return {
        "paper": progress,
        "progress": progress,
        "dist": dist,
        "chart": chart,
        "chart_caption": desc,
        "sparks": sparks,
        "sentences": sentences,
        "lots": _lots_of_paper(session, paper_id, names),
        "correctors": correctors_of_paper(session, paper_id),
        "readings": readings_of_paper(session, paper_id),
        "fmt": fmt,
        "fmt_num": number_formatter(lang),
        # The barème and its lock, and the shared bank's size (coordination.standardisation_web).
        "scheme_state": scheme_state(session, paper_id),
        "shared_comments": comments.count_shared(session, paper_id),
    }


# ---------------------------------------------------------------- the standardisation meeting


def lock_page(session: Session, paper_id: int) -> dict[str, object]:
    """The barème as it stands, beside the button that locks it."""
    return {"state": scheme_state(session, paper_id), "paper": session.get(Paper, paper_id), "fmt": fmt}


def shared_bank_page(session: Session, user: User, paper_id: int) -> dict[str, object]:
    """The paper's shared comment bank, retired entries included, for those who keep it."""
    return {
        "paper": session.get(Paper, paper_id),
        "entries": comments.shared_bank(session, user, paper_id),
        "max_comment": comments.MAX_COMMENT,
    }


# ---------------------------------------------------------------- the second reader


def paper_codes(session: Session) -> dict[int, str]:
    return {p.id: p.code for p in session.scalars(select(Paper))}


def reading_page(
    session: Session, reading: SecondReading, typed: dict[int, str] | None = None
) -> dict[str, object]:
    """The copy's pages and the barème with the second mark so far (or what was just typed);
    never the first mark."""
    values = (
        typed
        if typed is not None
        else {int(k): fmt(Decimal(v)) for k, v in (reading.marks or {}).items()}
    )
    return {
        "reading": reading,
        "paper": session.get(Paper, reading.paper_id),
        "scheme": load_scheme(session, reading.paper_id),
        "pages": session.scalars(
            select(Page).where(Page.copy_id == reading.copy_id).order_by(Page.position)
        ).all(),
        "values": values,
        "fmt": fmt,
        "open": reading.status != ReadingStatus.DECIDED,
    }


def reading_page_image(session: Session, reading: SecondReading, number: int) -> Page | None:
    """Page `number` (from 1) of the reading's copy."""
    return session.scalar(
        select(Page)
        .where(Page.copy_id == reading.copy_id)
        .order_by(Page.position)
        .offset(max(number - 1, 0))
        .limit(1)
    )
