"""The head of centre's or the coordinator's confirmation that a corrector's work on a paper was
done (fiche 12; `003` §H: claims go through after the work is confirmed): his payment line is
payable only then. Recorded here so the coordinator's page can take it; the payment export
(correction_server.closing.payment) reads it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.models import CorrectorPaper, WorkConfirmation
from massicot_core.errors import Refused

CAPACITIES = ("head_of_centre", "coordinator")


class WorkRefused(Refused):
    status = 409

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(None, key, **values)


def confirm_work(
    session: Session,
    paper_id: int,
    corrector_id: int,
    capacity: str,
    confirmed_by: str,
    actor: audit.Actor,
) -> WorkConfirmation:
    """The head of centre's or the coordinator's word that the corrector's work was done."""
    if capacity not in CAPACITIES:
        raise WorkRefused("jury.err.capacity")
    confirmed_by = (confirmed_by or "").strip()
    if not confirmed_by:
        raise WorkRefused("jury.err.confirm_who")
    on_paper = session.scalar(
        select(CorrectorPaper.id).where(
            CorrectorPaper.paper_id == paper_id, CorrectorPaper.user_id == corrector_id
        )
    )
    if on_paper is None:
        raise WorkRefused("jury.err.not_a_corrector")
    existing = session.scalar(
        select(WorkConfirmation).where(
            WorkConfirmation.paper_id == paper_id, WorkConfirmation.corrector_id == corrector_id
        )
    )
    if existing is not None:
        raise WorkRefused("jury.err.already_confirmed", by=existing.confirmed_by)
    row = WorkConfirmation(
        paper_id=paper_id,
        corrector_id=corrector_id,
        capacity=capacity,
        confirmed_by=confirmed_by[:200],
        by_id=actor.user_id,
        at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "closing.work_confirmed",
        "paper",
        paper_id,
        {"corrector_id": corrector_id, "capacity": capacity, "by": row.confirmed_by},
    )
    return row
