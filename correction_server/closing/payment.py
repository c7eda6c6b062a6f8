"""Payment of the correctors (fiche 12; `003` §H): copies counted as marked per corrector and paper
(who marked each copy, not who holds it now), the second readings each did, and the amount at the
rate of the paper's exam level — 5 € a copy for the baccalauréat, 1.10 € for another level IV,
0.75 € for level V unless the session configures other rates — with second readings counted as
the session says (1: like a copy). A line is payable only once the head of centre or the
coordinator has confirmed the work was done."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.export import csv_bytes
from correction_server.closing.refusals import ClosingRefused
from correction_server.coordination.work_done import CAPACITIES, confirm_work
from correction_server.models import (
    Copy,
    Marking,
    MarkingStatus,
    Paper,
    PaperPayLevel,
    ReadingStatus,
    SecondReading,
    SessionPayRates,
    User,
    WorkConfirmation,
)
from massicot_core.files import sha256_bytes

__all__ = ["CAPACITIES", "PAYMENT_COLUMNS", "PaymentLine", "confirm_work", "payment_csv", "payment_lines"]

DEFAULT_RATES = {"bac": Decimal("5.00"), "iv": Decimal("1.10"), "v": Decimal("0.75")}
LEVELS = tuple(DEFAULT_RATES)

PAYMENT_COLUMNS = [
    "corrector",
    "email",
    "paper",
    "copies_marked",
    "of_which_ab_00",
    "second_readings",
    "level",
    "rate",
    "amount",
    "confirmed_by",
    "payable",
]


@dataclass(frozen=True)
class PaymentLine:
    corrector: str
    email: str
    paper: str
    copies_marked: int
    of_which_ab_00: int
    second_readings: int
    level: str = ""  # "" while the paper's level is not set: no amount then
    rate: Decimal | None = None
    amount: Decimal | None = None
    confirmed_by: str = ""  # who confirmed the work ("" not yet): the line is payable after
    corrector_id: int | None = None
    paper_id: int | None = None

    @property
    def payable(self) -> bool:
        return bool(self.confirmed_by) and self.amount is not None


def rates_of(session: Session, session_id: int) -> tuple[dict[str, Decimal], Decimal]:
    """(rate per level, weight of a second reading) configured for the exam session."""
    row = session.scalar(select(SessionPayRates).where(SessionPayRates.session_id == session_id))
    rates = dict(DEFAULT_RATES)
    if row is None:
        return rates, Decimal(1)
    rates.update({k: Decimal(v) for k, v in (row.rates or {}).items()})
    return rates, row.second_reading_weight


def _euros(text: str) -> Decimal:
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except ArithmeticError:
        raise ClosingRefused("jury.err.not_euros", typed=text) from None
    if not value.is_finite() or value < 0:
        raise ClosingRefused("jury.err.not_euros", typed=text)
    return value.quantize(Decimal("0.01"))


def configure_rates(
    session: Session,
    session_id: int,
    rates: dict[str, str],
    second_reading_weight: str | None,
    actor: audit.Actor,
    by_name: str,
) -> SessionPayRates:
    """Set the session's rates (only the levels given change) and how a second reading counts."""
    unknown = set(rates) - set(LEVELS)
    if unknown:
        raise ClosingRefused("jury.err.level", level=", ".join(sorted(unknown)))
    row = session.scalar(select(SessionPayRates).where(SessionPayRates.session_id == session_id))
    if row is None:
        row = SessionPayRates(session_id=session_id, rates={}, second_reading_weight=Decimal(1))
        session.add(row)
    row.rates = {**(row.rates or {}), **{k: str(_euros(v)) for k, v in rates.items()}}
    if second_reading_weight is not None:
        row.second_reading_weight = _euros(second_reading_weight)
    session.flush()
    audit.record(
        session,
        actor,
        "closing.pay_rates",
        "session",
        session_id,
        {"rates": row.rates, "second_reading_weight": row.second_reading_weight, "by": by_name},
    )
    return row


def set_paper_level(session: Session, paper_id: int, level: str, actor: audit.Actor, by_name: str) -> None:
    level = (level or "").strip().lower()
    if level not in LEVELS:
        raise ClosingRefused("jury.err.level", level=level)
    row = session.scalar(select(PaperPayLevel).where(PaperPayLevel.paper_id == paper_id))
    if row is None:
        session.add(PaperPayLevel(paper_id=paper_id, level=level))
    else:
        row.level = level
    session.flush()
    audit.record(session, actor, "closing.pay_level", "paper", paper_id, {"level": level, "by": by_name})


def payment_lines(session: Session, paper_id: int | None = None) -> list[PaymentLine]:
    """Copies counted as marked, per corrector and paper: who marked it (not who holds it now)."""
    query = (
        select(
            User.id,
            Paper.id,
            func.count(Marking.id),
            func.count(Marking.special),
        )
        .join(Marking, Marking.corrector_id == User.id)
        .join(Copy, Copy.id == Marking.copy_id)
        .join(Paper, Paper.id == Copy.paper_id)
        .where(Marking.status == MarkingStatus.MARKED)
        .group_by(User.id, Paper.id)
    )
    readings_q = (
        select(SecondReading.reader_id, SecondReading.paper_id, func.count(SecondReading.id))
        .where(SecondReading.status != ReadingStatus.REQUESTED)
        .group_by(SecondReading.reader_id, SecondReading.paper_id)
    )
    if paper_id is not None:
        query = query.where(Paper.id == paper_id)
        readings_q = readings_q.where(SecondReading.paper_id == paper_id)
    counts: dict[tuple[int, int], list[int]] = {}
    for uid, pid, n, special in session.execute(query):
        counts[(uid, pid)] = [n, special, 0]
    for uid, pid, n in session.execute(readings_q):
        counts.setdefault((uid, pid), [0, 0, 0])[2] = n
    users = {
        u.id: u for u in session.scalars(select(User).where(User.id.in_({u for u, _p in counts} or {-1})))
    }
    papers = {
        p.id: p for p in session.scalars(select(Paper).where(Paper.id.in_({p for _u, p in counts} or {-1})))
    }
    levels = {r.paper_id: r.level for r in session.scalars(select(PaperPayLevel))}
    confirmed = {
        (w.corrector_id, w.paper_id): w.confirmed_by for w in session.scalars(select(WorkConfirmation))
    }
    rates_cache: dict[int, tuple[dict[str, Decimal], Decimal]] = {}
    lines = []
    for (uid, pid), (n, special, readings) in counts.items():
        user, paper = users[uid], papers[pid]
        level = levels.get(pid, "")
        rate = amount = None
        if level:
            if paper.session_id not in rates_cache:
                rates_cache[paper.session_id] = rates_of(session, paper.session_id)
            rates, weight = rates_cache[paper.session_id]
            rate = rates[level]
            amount = (rate * (n + weight * readings)).quantize(Decimal("0.01"))
        lines.append(
            PaymentLine(
                user.display_name or user.username,
                user.email or user.username,
                paper.code,
                n,
                special,
                readings,
                level,
                rate,
                amount,
                confirmed.get((uid, pid), ""),
                uid,
                pid,
            )
        )
    return sorted(lines, key=lambda x: (x.paper, x.corrector.lower()))


def payment_csv(session: Session, actor: audit.Actor, by_name: str, paper_id: int | None = None) -> bytes:
    """The payment lines as CSV; handing them over is recorded in the audit log."""
    lines = payment_lines(session, paper_id)
    rows = [
        [
            x.corrector,
            x.email,
            x.paper,
            x.copies_marked,
            x.of_which_ab_00,
            x.second_readings,
            x.level,
            "" if x.rate is None else f"{x.rate:.2f}",
            "" if x.amount is None else f"{x.amount:.2f}",
            x.confirmed_by,
            "yes" if x.payable else "no",
        ]
        for x in lines
    ]
    data = csv_bytes(PAYMENT_COLUMNS, rows)
    audit.record(
        session,
        actor,
        "closing.payment_export",
        "paper",
        paper_id if paper_id is not None else "all",
        {"rows": len(lines), "sha256": sha256_bytes(data), "by": by_name},
    )
    return data
