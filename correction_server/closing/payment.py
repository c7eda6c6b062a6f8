"""Payment of the correctors: copies counted as marked per corrector and paper (who marked each
copy, not who holds it now), and the second readings each did."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.export import csv_bytes
from correction_server.models import Copy, Marking, MarkingStatus, Paper, ReadingStatus, SecondReading, User
from massicot_core.files import sha256_bytes

PAYMENT_COLUMNS = ["corrector", "email", "paper", "copies_marked", "of_which_ab_00", "second_readings"]


@dataclass(frozen=True)
class PaymentLine:
    corrector: str
    email: str
    paper: str
    copies_marked: int
    of_which_ab_00: int
    second_readings: int


def payment_lines(session: Session, paper_id: int | None = None) -> list[PaymentLine]:
    """Copies counted as marked, per corrector and paper: who marked it (not who holds it now)."""
    query = (
        select(
            User.display_name,
            User.username,
            User.email,
            Paper.code,
            func.count(Marking.id),
            func.count(Marking.special),
        )
        .join(Marking, Marking.corrector_id == User.id)
        .join(Copy, Copy.id == Marking.copy_id)
        .join(Paper, Paper.id == Copy.paper_id)
        .where(Marking.status == MarkingStatus.MARKED)
        .group_by(User.id, User.display_name, User.username, User.email, Paper.code)
    )
    readings_q = (
        select(User.username, Paper.code, func.count(SecondReading.id))
        .join(SecondReading, SecondReading.reader_id == User.id)
        .join(Paper, Paper.id == SecondReading.paper_id)
        .where(SecondReading.status != ReadingStatus.REQUESTED)
        .group_by(User.username, Paper.code)
    )
    if paper_id is not None:
        query = query.where(Paper.id == paper_id)
        readings_q = readings_q.where(Paper.id == paper_id)
    readings = {(u, p): n for u, p, n in session.execute(readings_q)}
    lines = {}
    for display, username, email, code, n, special in session.execute(query):
        lines[(username, code)] = PaymentLine(
            display or username, email or username, code, n, special, readings.get((username, code), 0)
        )
    for (username, code), n in readings.items():
        if (username, code) not in lines:
            user = session.scalar(select(User).where(User.username == username))
            lines[(username, code)] = PaymentLine(
                user.display_name or username, user.email or username, code, 0, 0, n
            )
    return sorted(lines.values(), key=lambda x: (x.paper, x.corrector.lower()))


def payment_csv(session: Session, actor: audit.Actor, by_name: str, paper_id: int | None = None) -> bytes:
    """The payment lines as CSV; handing them over is recorded in the audit log."""
    lines = payment_lines(session, paper_id)
    rows = [
        [x.corrector, x.email, x.paper, x.copies_marked, x.of_which_ab_00, x.second_readings] for x in lines
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

