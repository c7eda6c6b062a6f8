"""Progress, reassignment and second reading on generated sessions (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from correction_server.audit import log as audit
from correction_server.coordination.progress import paper_progress
from correction_server.coordination.reassignment import reassign
from correction_server.coordination.refusals import CoordinationRefused
from correction_server.coordination.second_reading import (
    decide_second_reading,
    reading_for_reader,
    readings_of_paper,
    request_second_reading,
    save_second_reading,
)
from correction_server.marking.reading import NotYourCopy, state_for
from correction_server.marking.rules import MarkingRefused
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import (
    AuditEntry,
    Marking,
    MarkingStatus,
    Paper,
    ReadingStatus,
    Reassignment,
    User,
)
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from testkit.worlds.coordination import build_world

COORD = audit.Actor(None, "coordinator")


def _actor(world) -> audit.Actor:
    return audit.Actor(world.coordinator_id, "coordinator")


def test_progress_counts_marked_in_progress_and_not_started(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, leave_unmarked=4, absent_every=13, blank_every=17)
    first = min(world.lots)
    in_progress = world.lots[first][-1]
    with session_factory() as session:
        save(session, first, in_progress, SaveRequest(version=0, appreciation="Début."))
    with session_factory() as session:
        progress = paper_progress(session, world.paper_id)
    assert progress.total.copies == len(world.copies)
    assert progress.total.marked == len(world.copies) - 4
    assert progress.total.draft == 1 and progress.total.not_started == 3
    mine = next(c for c in progress.correctors if c.corrector_id == first)
    assert (mine.counts.marked, mine.counts.draft, mine.counts.not_started) == (
        len(world.lots[first]) - 4,
        1,
        3,
    )
    assert sum(c.counts.copies for c in progress.centres) == len(world.copies)
    assert len(progress.centres) == 2  # the sample candidates sit in two centres
    assert sum(c.counts.draft for c in progress.centres) == 1


def test_reassigning_a_lot_keeps_marked_copies_and_moves_the_rest_with_their_work(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, leave_unmarked=5)
    ill = min(world.lots)
    todo = world.lots[ill][-5:]
    draft = todo[0]
    with session_factory() as session:
        save(session, ill, draft, SaveRequest(version=0, marks={world.question_ids[0]: "3"}))
    others = [cid for cid in world.correctors.values() if cid != ill]
    with session_factory() as session:
        lot_id = session.scalar(select(CorrectionLot.id).where(CorrectionLot.corrector_id == ill))
        # A corrector teaching where candidates of the lot studied cannot take all of them alone.
        outcome = reassign(
            session,
            world.paper_id,
            to_corrector_ids=others,
            actor=_actor(world),
            by_name="Coord",
            lot_id=lot_id,
            reason="malade",
        )
        session.commit()
    assert sorted(c for ids in outcome.moved.values() for c in ids) == sorted(todo)
    assert sorted(outcome.kept_marked) == sorted(world.lots[ill][:-5])
    with session_factory() as session:
        holders = dict(
            session.execute(
                select(LotCopy.copy_id, CorrectionLot.corrector_id)
                .join(CorrectionLot, CorrectionLot.id == LotCopy.lot_id)
                .where(LotCopy.state == AssignmentState.ASSIGNED)
            ).all()
        )
        assert all(holders[c] == ill for c in outcome.kept_marked)
        assert all(holders[c] != ill for c in todo)
        moves = {r.copy_id: r for r in session.scalars(select(Reassignment))}
        assert moves[draft].state_when_moved == "draft" and moves[draft].from_corrector_id == ill
        assert moves[draft].reason == "malade"
        # The one who falls ill no longer reaches the copies moved; the new corrector continues the draft.
        with pytest.raises(NotYourCopy):
            state_for(session, ill, draft)
        new_holder = holders[draft]
        state = state_for(session, new_holder, draft)
        assert state.marks == {world.question_ids[0]: 3}
        save(
            session, new_holder, draft, SaveRequest(version=state.version, appreciation="Suite.")
        )
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "coordination.reassign")
        ).all()
        assert sum(len(e.details["copies"]) for e in entries) == 5
        assert audit.verify_chain(session).intact


def test_reassignment_respects_the_etablissement_rule_and_changes_nothing_when_impossible(
    session_factory, tmp_path
):
    world = build_world(session_factory, tmp_path, leave_unmarked=6)
    ill = min(world.lots)
    with session_factory() as session:
        ill_school = session.get(User, ill).establishment_id
        same_school = [
            u.id
            for u in session.scalars(select(User).where(User.establishment_id == ill_school, User.id != ill))
        ]
        # Give the only other corrector the school of every candidate of the lot: nothing can go to him.
        from correction_server.models import Candidate, IdentityLink

        target = next(cid for cid in world.correctors.values() if cid != ill)
        schools = set(
            session.scalars(
                select(Candidate.establishment_id)
                .join(IdentityLink, IdentityLink.candidate_id == Candidate.id)
                .where(IdentityLink.copy_id.in_(world.lots[ill][-6:]))
            )
        )
        assert len(schools) > 1 or same_school is not None
        session.get(User, target).establishment_id = next(iter(schools))
        session.commit()
        before = session.scalar(select(LotCopy.lot_id).where(LotCopy.copy_id == world.lots[ill][-1]))
        with pytest.raises(CoordinationRefused) as refused:
            reassign(
                session,
                world.paper_id,
                to_corrector_ids=[target],
                actor=_actor(world),
                by_name="C",
                copy_ids=world.lots[ill][-6:],
            )
        session.rollback()
        assert "établissement" in str(refused.value) and "Nothing was moved" in str(refused.value)
        assert session.scalar(select(LotCopy.lot_id).where(LotCopy.copy_id == world.lots[ill][-1])) == before
        assert not session.scalars(select(Reassignment)).all()


def test_second_reading_is_blind_and_the_coordinator_decides_beside_the_first_mark(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path)
    first_corrector = min(world.lots)
    copy_id = next(c for c in world.lots[first_corrector] if world.status[c].value == "ok")
    with session_factory() as session:
        with pytest.raises(CoordinationRefused, match="another corrector"):
            request_second_reading(session, copy_id, first_corrector, _actor(world))
        refusals = []
        for reader_id in sorted(world.correctors.values()):
            if reader_id == first_corrector:
                continue
            try:
                reading = request_second_reading(
                    session, copy_id, reader_id, _actor(world), "écart"
                )
                break
            except CoordinationRefused as exc:  # the reader teaches where the candidate studied
                refusals.append(str(exc))
        assert all("dispatch rules" in r for r in refusals)
        session.commit()
        with pytest.raises(CoordinationRefused, match="under way"):
            request_second_reading(session, copy_id, reader_id, _actor(world))
        reader = session.get(User, reader_id)
        marks = {q: "1" for q in world.question_ids}
        with pytest.raises(CoordinationRefused, match="appreciation"):
            save_second_reading(session, reading.id, reader, marks, "  ")
        session.rollback()
        stranger = session.get(User, first_corrector)
        with pytest.raises(CoordinationRefused):
            reading_for_reader(session, reading.id, stranger)
        save_second_reading(session, reading.id, reader, marks, "Copie faible.")
        session.commit()
        view = next(r for r in readings_of_paper(session, world.paper_id) if r.id == reading.id)
        first = session.scalar(select(Marking).where(Marking.copy_id == copy_id))
        assert view.second_mark == "5" and view.gap == 5 - first.mark_20
        assert view.status == "done"
        with pytest.raises(CoordinationRefused, match="why"):
            decide_second_reading(
                session, reading.id, world.paper_id, _actor(world), "other", "9"
            )
        decided = decide_second_reading(
            session, reading.id, world.paper_id, _actor(world), "other", "9,5", "moyenne des deux lectures"
        )
        session.commit()
        assert decided.status == ReadingStatus.DECIDED and float(decided.decided_mark_20) == 9.5
        # The first corrector's mark is untouched: the decision lives beside it.
        again = session.scalar(select(Marking).where(Marking.copy_id == copy_id))
        assert again.mark_20 == first.mark_20 and again.status == MarkingStatus.MARKED
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        assert actions[-3:] == [
            "coordination.second_reading.request",
            "coordination.second_reading.mark",
            "coordination.second_reading.decide",
        ]
        assert audit.verify_chain(session).intact


def test_every_marking_save_is_in_the_audit_log_and_a_refused_save_leaves_no_trace(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, mark="none")
    corrector = min(world.lots)
    copy_id = next(c for c in world.lots[corrector] if world.status[c].value == "ok")
    with session_factory() as session:
        count = len(session.scalars(select(AuditEntry)).all())
        state = save(
            session, corrector, copy_id, SaveRequest(version=0, marks={world.question_ids[0]: "2,5"})
        )
        with pytest.raises(MarkingRefused):
            save(
                session,
                corrector,
                copy_id,
                SaveRequest(version=state.version, marks={world.question_ids[0]: "99"}),
            )
        save(
            session,
            corrector,
            copy_id,
            SaveRequest(
                version=state.version,
                appreciation="Bien.",
                layers={world.page_ids[copy_id][0]: [{"id": "t1", "kind": "tick", "x": 0.5, "y": 0.5}]},
            ),
        )
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()[count:]
    assert [e.action for e in entries] == ["marking.save", "marking.save"]
    assert entries[0].details["marks"] == {str(world.question_ids[0]): "2.50"}
    assert entries[1].details["appreciation"] == "Bien."
    assert entries[1].details["layers"][str(world.page_ids[copy_id][0])]["items"] == 1
    assert all(e.actor_id == corrector and e.object_id == copy_id for e in entries)


def test_the_office_glance_counts_what_is_left_to_mark_then_asks_reconciliation(session_factory, tmp_path):
    from datetime import UTC, datetime

    from correction_server.office.glance import paper_glance

    world = build_world(session_factory, tmp_path, leave_unmarked=4, absent_every=13, blank_every=17)
    with session_factory() as session:
        glance = paper_glance(session, session.get(Paper, world.paper_id), datetime.now(UTC), "fr")
        progress = paper_progress(session, world.paper_id)
    assert glance.marked == len(world.copies) - 4 == progress.total.marked
    assert glance.dispatched == len(world.copies)
    assert (glance.blocked_by, glance.blockers) == ("copies encore à corriger : 4", 4)

    import random

    from testkit.worlds.coordination import mark_directly

    left = set(world.lots[min(world.lots)][-4:])
    mark_directly(session_factory, world, random.Random(3), skip=set(world.copies) - left)
    with session_factory() as session:
        glance = paper_glance(session, session.get(Paper, world.paper_id), datetime.now(UTC), "en")
    assert glance.marked == len(world.copies)
    # Everything marked: the reconciliation speaks (no harmonisation meeting recorded yet).
    assert glance.blocked_by is not None and "to mark" not in glance.blocked_by
