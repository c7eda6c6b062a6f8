"""The roll the office hands to each centre: who is registered there for a paper.

The centre prints labels and the signing sheet from it, fills `present` after the paper,
and the scan station checks the copies against it. Besides the required columns
(`candidate,name,present`, massicot_core.roll) the console's export has the optional ones agreed
with the station: `room`, `table` (where the candidate sits) and `deadline` (the paper's scan
deadline, ISO 8601 with the session's offset, the same on every line).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.models import Candidate, Centre, Paper, RollEntry
from correction_server.web.clock import local_text
from massicot_core.errors import UserError
from massicot_core.roll import REQUIRED_COLUMNS, RollLine

PLACED_COLUMNS = (*REQUIRED_COLUMNS, "room", "table", "deadline")


def _centre(session: Session, centre_uai: str) -> Centre:
    centre = session.scalar(select(Centre).where(Centre.uai == centre_uai.strip().upper()))
    if centre is None:
        known = ", ".join(session.scalars(select(Centre.uai).order_by(Centre.uai))) or "none yet"
        raise UserError(f"No centre has the UAI code {centre_uai!r} (centres known: {known}).")
    return centre


def centre_roll(session: Session, paper: Paper, centre_uai: str) -> list[RollLine]:
    """Registered candidates of one centre for one paper, by registration number.

    `present` starts as yes: the centre corrects it from the signed sheet after the paper.
    """
    return [line.roll_line for line in placed_roll(session, paper, centre_uai)]


@dataclass(frozen=True)
class PlacedLine:
    roll_line: RollLine
    room: str
    table: str


def placed_roll(session: Session, paper: Paper, centre_uai: str, room: str | None = None) -> list[PlacedLine]:
    """The centre's roll for the paper with each candidate's room and table; `room` keeps one
    room only ('' : the candidates without a room)."""
    centre = _centre(session, centre_uai)
    query = (
        select(
            Candidate.registration,
            Candidate.surname,
            Candidate.given_names,
            Candidate.room,
            Candidate.table_number,
        )
        .join(RollEntry, RollEntry.candidate_id == Candidate.id)
        .where(RollEntry.paper_id == paper.id, Candidate.centre_id == centre.id)
        .order_by(Candidate.registration)
    )
    if room is not None:
        query = query.where(func.coalesce(Candidate.room, "") == room)
    rows = session.execute(query).all()
    if not rows:
        where = f" in room {room}" if room else ""
        raise UserError(f"No candidate of centre {centre.uai}{where} is registered for paper {paper.code}.")
    return [
        PlacedLine(
            RollLine(candidate=r.registration, name=f"{r.surname} {r.given_names}", present=True),
            r.room or "",
            r.table_number or "",
        )
        for r in rows
    ]


def placed_roll_csv(paper: Paper, lines: list[PlacedLine]) -> str:
    """The roll with its optional columns; the deadline in the session's zone, with its offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PLACED_COLUMNS)
    deadline = local_text(paper.scan_deadline, "iso")
    for line in lines:
        roll = line.roll_line
        writer.writerow(
            [roll.candidate, roll.name, "yes" if roll.present else "no", line.room, line.table, deadline]
        )
    return out.getvalue()
