"""The session at a glance, the office console's home: per paper, where it stands on one line.

Candidates registered, centres expected / pushed / late (the paper's scan deadline passed with
nothing pushed from them: their name and contact, so the office can call), copies received, the
barème's lock, copies dispatched, marked n / N, second readings open, and ready for the jury or
what blocks it. Read-only; the page (`office.console_web`) renders it and polls it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from correction_server.closing.reconcile import reconcile
from correction_server.coordination.harmonisation_meeting import meeting_of
from correction_server.models import (
    Candidate,
    Centre,
    Copy,
    LotCopy,
    Marking,
    MarkingStatus,
    Paper,
    ReadingStatus,
    RollEntry,
    ScanLot,
    SecondReading,
)
from massicot_core.snapshots import Snapshots, keep_when_costly

# The office's home polls every 20 s; a national paper's line costs about a second to count.
_SHOWN: Snapshots[PaperGlance] = Snapshots()


@dataclass(frozen=True)
class LateCentre:
    uai: str
    name: str
    contact: str


@dataclass
class PaperGlance:
    paper_id: int
    code: str
    title: str
    candidates: int
    centres_expected: int
    centres_pushed: int
    scan_deadline: datetime | None
    late: list[LateCentre]
    copies: int
    scheme_locked_at: datetime | None
    dispatched: int
    marked: int
    second_readings_open: int
    # None when ready for the jury; otherwise what blocks it, in the reader's language.
    blocked_by: str | None
    blockers: int = 0
    window_opens: datetime | None = None
    window_closes: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.blocked_by is None


def late_centres(session: Session, paper: Paper, now: datetime) -> list[LateCentre]:
    """Centres with candidates registered for the paper and no lot of it received, once its scan
    deadline has passed (none before, nor without a deadline)."""
    if paper.scan_deadline is None or now <= paper.scan_deadline:
        return []
    expected = (
        select(Candidate.centre_id)
        .join(RollEntry, RollEntry.candidate_id == Candidate.id)
        .where(RollEntry.paper_id == paper.id)
    )
    pushed = select(ScanLot.centre_id).where(ScanLot.paper_id == paper.id)
    rows = session.execute(
        select(Centre.uai, Centre.name, Centre.contact)
        .where(Centre.id.in_(expected), Centre.id.not_in(pushed))
        .order_by(Centre.uai)
    ).all()
    return [LateCentre(r.uai, r.name, r.contact) for r in rows]


def paper_glance(session: Session, paper: Paper, now: datetime, lang: str) -> PaperGlance:
    candidates = session.scalar(select(func.count()).where(RollEntry.paper_id == paper.id)) or 0
    expected = (
        session.scalar(
            select(func.count(distinct(Candidate.centre_id)))
            .join(RollEntry, RollEntry.candidate_id == Candidate.id)
            .where(RollEntry.paper_id == paper.id)
        )
        or 0
    )
    pushed = (
        session.scalar(select(func.count(distinct(ScanLot.centre_id))).where(ScanLot.paper_id == paper.id))
        or 0
    )
    copies = session.scalar(select(func.count()).where(Copy.paper_id == paper.id)) or 0
    dispatched = (
        session.scalar(
            select(func.count()).select_from(LotCopy).join(Copy, Copy.id == LotCopy.copy_id)
            .where(Copy.paper_id == paper.id)
        )
        or 0
    )  # fmt: skip
    open_readings = (
        session.scalar(
            select(func.count())
            .select_from(SecondReading)
            .join(Copy, Copy.id == SecondReading.copy_id)
            .where(Copy.paper_id == paper.id, SecondReading.status != ReadingStatus.DECIDED)
        )
        or 0
    )
    marked = (
        session.scalar(
            select(func.count()).select_from(Marking).join(Copy, Copy.id == Marking.copy_id)
            .where(Copy.paper_id == paper.id, Marking.status == MarkingStatus.MARKED)
        )
        or 0
    )  # fmt: skip
    blocked_by, blockers = _blocker(session, paper, copies, marked, open_readings, lang)
    return PaperGlance(
        paper_id=paper.id,
        code=paper.code,
        title=paper.title,
        candidates=candidates,
        centres_expected=expected,
        centres_pushed=pushed,
        scan_deadline=paper.scan_deadline,
        late=late_centres(session, paper, now),
        copies=copies,
        scheme_locked_at=paper.scheme_locked_at,
        dispatched=dispatched,
        marked=marked,
        second_readings_open=open_readings,
        blocked_by=blocked_by,
        blockers=blockers,
        window_opens=paper.window_opens,
        window_closes=paper.window_closes,
    )


def _blocker(
    session: Session, paper: Paper, copies: int, marked: int, open_readings: int, lang: str
) -> tuple[str | None, int]:
    from correction_server import i18n

    if not copies:
        return i18n.translate(lang, "office.glance.no_copies"), 0
    if open_readings:
        return i18n.translate(lang, "office.glance.readings_open", count=open_readings), open_readings
    # While copies are still to mark, that is what blocks the jury: said from the counts, for the
    # reconciliation reads every line of the paper (seconds at half a million copies) and the
    # page polls. Once all are marked, the reconciliation names what is left.
    if marked < copies:
        return i18n.translate(lang, "office.glance.to_mark", count=copies - marked), copies - marked
    blockers = reconcile(session, paper.id).blockers
    if blockers:
        first = blockers[0]
        return (
            i18n.translate(lang, "office.glance.blocked", count=len(blockers), first=first.words(lang)),
            len(blockers),
        )
    # The exports refuse a paper whose harmonisation meeting is not recorded (rule 19): the
    # glance says so rather than "ready" for a paper the jury cannot have yet.
    if meeting_of(session, paper.id) is None:
        return i18n.translate(lang, "office.glance.no_meeting"), 1
    return None, 0


def session_glance(session: Session, now: datetime, lang: str) -> list[PaperGlance]:
    """Every paper of the database, by code; a national paper's line is a snapshot at most some
    seconds old per process (massicot_core.snapshots), the others are computed afresh."""
    return [
        _SHOWN.get(
            (p.id, lang),
            lambda p=p: paper_glance(session, p, now, lang),
            lambda line, took: keep_when_costly(line.copies, took),
            refresh=lambda p=p: _glance_apart(session.get_bind(), p.id, now, lang),
        )
        for p in session.scalars(select(Paper).order_by(Paper.code))
    ]


def _glance_apart(bind: Engine | Connection, paper_id: int, now: datetime, lang: str) -> PaperGlance:
    with Session(bind=bind) as session:
        return paper_glance(session, session.get(Paper, paper_id), now, lang)
