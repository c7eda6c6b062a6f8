"""The roll the office hands to each centre: who is registered there for a paper.

The centre prints labels and the signing sheet from it, fills `present` after the paper,
and the scan station checks the copies against it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.models import Candidate, Centre, Paper, RollEntry
from massicot_core.errors import UserError
from massicot_core.roll import RollLine


def centre_roll(session: Session, paper: Paper, centre_uai: str) -> list[RollLine]:
    """Registered candidates of one centre for one paper, by registration number.

    `present` starts as yes: the centre corrects it from the signed sheet after the paper.
    """
    centre = session.scalar(select(Centre).where(Centre.uai == centre_uai.strip().upper()))
    if centre is None:
        known = ", ".join(session.scalars(select(Centre.uai).order_by(Centre.uai))) or "none yet"
        raise UserError(f"No centre has the UAI code {centre_uai!r} (centres known: {known}).")
    rows = session.execute(
        select(Candidate.registration, Candidate.surname, Candidate.given_names)
        .join(RollEntry, RollEntry.candidate_id == Candidate.id)
        .where(RollEntry.paper_id == paper.id, Candidate.centre_id == centre.id)
        .order_by(Candidate.registration)
    ).all()
    if not rows:
        raise UserError(f"No candidate of centre {centre.uai} is registered for paper {paper.code}.")
    return [
        RollLine(candidate=r.registration, name=f"{r.surname} {r.given_names}", present=True) for r in rows
    ]
