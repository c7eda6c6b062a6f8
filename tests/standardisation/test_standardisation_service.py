"""The services behind the standardisation pages, on SQLite and PostgreSQL: the barème's state and
its lock (once, even when two people lock at the same moment), and who keeps the shared bank."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from correction_server.audit import log as audit
from correction_server.marking import comments
from correction_server.marking.scheme import lock_scheme, scheme_state
from correction_server.models import AuditEntry, Comment, Paper, User
from massicot_core.errors import UserError


def test_scheme_state_shows_the_questions_and_the_lock(session_factory, entente):
    with session_factory() as session:
        state = scheme_state(session, entente.paper_id)
        assert [line.label for line in state.lines] == ["Question 1", "Question 2", "Question 3"]
        assert [line.max_points for line in state.lines] == [Decimal(4), Decimal(6), Decimal(10)]
        assert state.total == Decimal(20) and state.locked_at is None and state.lockable
        locked_at = lock_scheme(session, session.get(Paper, entente.paper_id), audit.SYSTEM)
        session.commit()
    with session_factory() as session:
        state = scheme_state(session, entente.paper_id)
        assert state.locked_at == locked_at and not state.lockable


def test_a_paper_without_questions_cannot_be_locked(session_factory, entente):
    with session_factory() as session:
        paper = session.get(Paper, entente.paper_id)
        paper.questions.clear()
        session.flush()
        assert not scheme_state(session, paper.id).lockable
        with pytest.raises(UserError, match="no barème yet"):
            lock_scheme(session, paper, audit.SYSTEM)


def test_two_people_locking_at_once_make_one_lock(session_factory, entente):
    """Both read "not locked"; the second one's lock is refused, not recorded over the first."""
    first, second = session_factory(), session_factory()
    try:
        paper_a = first.get(Paper, entente.paper_id)
        paper_b = second.get(Paper, entente.paper_id)
        assert paper_a.scheme_locked_at is None and paper_b.scheme_locked_at is None
        locked_at = lock_scheme(first, paper_a, audit.Actor(entente.base.coordinator_id, "coordinator"))
        first.commit()
        with pytest.raises(UserError, match="already locked"):
            lock_scheme(second, paper_b, audit.Actor(entente.office_id, "office"))
        second.rollback()
    finally:
        first.close()
        second.close()
    with session_factory() as session:
        assert session.get(Paper, entente.paper_id).scheme_locked_at == locked_at
        locks = session.scalars(select(AuditEntry).where(AuditEntry.action == "scheme.lock")).all()
        assert [(e.actor_id, e.actor_role) for e in locks] == [(entente.base.coordinator_id, "coordinator")]


def test_who_keeps_the_shared_bank(session_factory, entente):
    with session_factory() as session:

        def who(user_id: int) -> bool:
            return comments.may_share(session, session.get(User, user_id), entente.paper_id)

        assert who(entente.base.coordinator_id) and who(entente.second_coordinator_id)
        assert who(entente.office_id)
        assert not who(entente.other_coordinator_id)
        assert not who(entente.base.corrector_id)


def test_the_office_and_every_coordinator_of_the_paper_keep_the_shared_bank(session_factory, entente):
    with session_factory() as session, session.begin():
        office = session.get(User, entente.office_id)
        first = session.get(User, entente.base.coordinator_id)
        second = session.get(User, entente.second_coordinator_id)
        stranger = session.get(User, entente.other_coordinator_id)
        corrector = session.get(User, entente.base.corrector_id)
        by_office = comments.add(session, office, entente.paper_id, "Unités attendues.", shared=True)
        by_first = comments.add(session, first, entente.paper_id, "Justifiez chaque étape.", shared=True)
        private = comments.add(session, corrector, entente.paper_id, "Mine only.")
        # Another coordinator of the same paper rewords the first one's entry; the office too.
        comments.edit(session, second, by_first.id, "Justifiez chaque étape du calcul.")
        comments.edit(session, office, by_office.id, "Unités attendues dans le résultat.")
        with pytest.raises(comments.CommentForbidden):
            comments.add(session, stranger, entente.paper_id, "Not my paper.", shared=True)
        with pytest.raises(comments.CommentForbidden):
            comments.edit(session, stranger, by_first.id, "Not my paper.")
        with pytest.raises(comments.CommentForbidden):
            comments.edit(session, corrector, by_first.id, "Changed by a corrector.")
        # The shared-bank keepers never reach a corrector's own entry.
        with pytest.raises(comments.CommentForbidden):
            comments.edit(session, office, private.id, "Read by the office.")
        with pytest.raises(comments.CommentNotFound):
            comments.ensure_shared_entry(session, entente.paper_id, private.id)
        with pytest.raises(comments.CommentNotFound):
            comments.ensure_shared_entry(session, entente.other_paper_id, by_first.id)
        comments.ensure_shared_entry(session, entente.paper_id, by_first.id)
        listed = comments.shared_bank(session, office, entente.paper_id)
        assert [(e.id, e.text) for e in listed] == [
            (by_office.id, "Unités attendues dans le résultat."),
            (by_first.id, "Justifiez chaque étape du calcul."),
        ]
        with pytest.raises(comments.CommentForbidden):
            comments.shared_bank(session, corrector, entente.paper_id)
        # The corrector's bank offers both shared entries, before his own.
        bank = comments.bank(session, corrector, entente.paper_id)
        assert [(e.id, e.shared) for e in bank] == [
            (by_office.id, True),
            (by_first.id, True),
            (private.id, False),
        ]
        assert comments.count_shared(session, entente.paper_id) == 2
        assert comments.retire(session, second, by_office.id) is None  # never used: deleted
        assert comments.count_shared(session, entente.paper_id) == 1
    with session_factory() as session:
        trail = session.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.object_id).where(
                AuditEntry.action.like("comment.%")
            )
        ).all()
        assert ("comment.add", entente.office_id, str(by_office.id)) in trail
        assert ("comment.edit", entente.second_coordinator_id, str(by_first.id)) in trail
        assert ("comment.delete", entente.second_coordinator_id, str(by_office.id)) in trail
        assert session.get(Comment, by_office.id) is None
        assert audit.verify_chain(session).intact
