"""Reassignment: the copies of a lot (or chosen copies) not marked yet, moved to other correctors.

Every move is recorded (Reassignment, and the audit log) in the transaction that makes it; the
functions here flush, the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.coordination.people import paper_correctors
from correction_server.coordination.refusals import CoordinationRefused
from correction_server.dispatch.conflicts import conflicts_for
from correction_server.models import Marking, MarkingStatus, Reassignment
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy


@dataclass
class ReassignOutcome:
    moved: dict[int, list[str]]  # target corrector id -> copy ids moved to him
    kept_marked: list[str]  # copies already marked: they stay with their corrector
    new_lots: list[tuple[int, int]]  # (lot id, lot number)

    @property
    def moved_count(self) -> int:
        return sum(len(v) for v in self.moved.values())


def reassign(
    session: Session,
    paper_id: int,
    *,
    to_corrector_ids: list[int],
    actor: audit.Actor,
    by_name: str,
    lot_id: int | None = None,
    copy_ids: list[str] | None = None,
    reason: str = "",
) -> ReassignOutcome:
    """Move the copies of a lot (or chosen copies) that are not marked yet to other correctors.

    Marked copies stay where they are: they are their corrector's work and are paid to him.
    A copy in progress moves with what was entered so far (the new corrector continues it);
    the move is recorded (Reassignment, audit) with the state it was in. The copies are spread
    over the chosen correctors, fewest copies first, never to a corrector a conflict of interest
    bars (dispatch.conflicts: an établissement where he teaches, an incompatibility recorded).
    Nothing is moved unless every copy can go somewhere.
    """
    if (lot_id is None) == (copy_ids is None):
        raise CoordinationRefused("which_copies")
    correctors = paper_correctors(session, paper_id)
    targets = []
    for cid in dict.fromkeys(to_corrector_ids):
        user = correctors.get(cid)
        if user is None or not user.active:
            raise CoordinationRefused("not_a_target")
        targets.append(user)
    if not targets:
        raise CoordinationRefused("no_target")
    query = (
        select(LotCopy, CorrectionLot, Marking.status)
        .join(CorrectionLot, CorrectionLot.id == LotCopy.lot_id)
        .outerjoin(Marking, Marking.copy_id == LotCopy.copy_id)
        .where(CorrectionLot.paper_id == paper_id, LotCopy.state == AssignmentState.ASSIGNED)
        .order_by(LotCopy.copy_id)
    )
    if lot_id is not None:
        lot = session.get(CorrectionLot, lot_id)
        if lot is None or lot.paper_id != paper_id:
            raise CoordinationRefused("not_a_lot", lot=lot_id)
        query = query.where(LotCopy.lot_id == lot_id)
    else:
        wanted = sorted({c.strip().upper() for c in copy_ids or [] if c.strip()})
        query = query.where(LotCopy.copy_id.in_(wanted or [""]))
    rows = session.execute(query).all()
    if copy_ids is not None:
        found = {lc.copy_id for lc, _lot, _s in rows}
        unknown = [c for c in sorted({c.strip().upper() for c in copy_ids if c.strip()}) if c not in found]
        if unknown:
            raise CoordinationRefused("not_in_lots", copies=", ".join(unknown[:10]))
    kept = [lc.copy_id for lc, _lot, status in rows if status == MarkingStatus.MARKED]
    movable = [(lc, lot, status) for lc, lot, status in rows if status != MarkingStatus.MARKED]
    # Every conflict of interest (dispatch.conflicts): his établissements, the office's records.
    conflicts = conflicts_for(session, [lc.copy_id for lc, _l, _s in movable], [t.id for t in targets])
    load = dict(
        session.execute(
            select(CorrectionLot.corrector_id, func.count(LotCopy.id))
            .join(LotCopy, LotCopy.lot_id == CorrectionLot.id)
            .where(CorrectionLot.paper_id == paper_id, LotCopy.state == AssignmentState.ASSIGNED)
            .group_by(CorrectionLot.corrector_id)
        ).all()
    )
    plan: dict[int, list[tuple[LotCopy, CorrectionLot, MarkingStatus | None]]] = {t.id: [] for t in targets}
    impossible: list[str] = []
    for lc, lot, status in movable:
        barred = conflicts.get(lc.copy_id, {})
        eligible = [t for t in targets if t.id != lot.corrector_id and t.id not in barred]
        if not eligible:
            impossible.append(lc.copy_id)
            continue
        best = min(eligible, key=lambda t: (load.get(t.id, 0) + len(plan[t.id]), t.id))
        plan[best.id].append((lc, lot, status))
    if impossible:
        sample = ", ".join(impossible[:10]) + (" …" if len(impossible) > 10 else "")
        raise CoordinationRefused(
            "nowhere_to_go_copies", impossible=len(impossible), movable=len(movable), copies=sample
        )
    now = datetime.now(UTC)
    next_number = (
        session.scalar(select(func.max(CorrectionLot.number)).where(CorrectionLot.paper_id == paper_id)) or 0
    ) + 1
    outcome = ReassignOutcome({}, kept, [])
    for target in targets:
        chosen = plan[target.id]
        if not chosen:
            continue
        # A new lot per receiving corrector: its slip lists exactly the copies he received.
        new_lot = CorrectionLot(
            paper_id=paper_id, corrector_id=target.id, number=next_number, seed=chosen[0][1].seed
        )
        session.add(new_lot)
        session.flush()
        next_number += 1
        moved = []
        for position, (lc, old_lot, status) in enumerate(chosen, start=1):
            state = "draft" if status == MarkingStatus.DRAFT else "todo"
            session.add(
                Reassignment(
                    copy_id=lc.copy_id,
                    paper_id=paper_id,
                    from_lot_id=old_lot.id,
                    to_lot_id=new_lot.id,
                    from_corrector_id=old_lot.corrector_id,
                    to_corrector_id=target.id,
                    state_when_moved=state,
                    reason=reason,
                    by_id=actor.user_id,
                    by_name=by_name,
                    at=now,
                )
            )
            lc.lot_id = new_lot.id
            lc.position = position
            lc.assigned_at = now
            moved.append((lc.copy_id, old_lot.id, old_lot.corrector_id, state))
        session.flush()
        audit.record(
            session,
            actor,
            "coordination.reassign",
            "lot",
            new_lot.id,
            {
                "paper_id": paper_id,
                "to_corrector_id": target.id,
                "reason": reason,
                "copies": [
                    {"copy": c, "from_lot": lot, "from_corrector": fc, "state": s} for c, lot, fc, s in moved
                ],
            },
        )
        outcome.moved[target.id] = [c for c, *_ in moved]
        outcome.new_lots.append((new_lot.id, new_lot.number))
    return outcome
