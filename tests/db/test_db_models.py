"""The data model's own rules, checked on SQLite and PostgreSQL (db_url is parametrised)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from correction_server.models import (
    Attendance,
    Candidate,
    Centre,
    Copy,
    CopyStatus,
    Establishment,
    ExamSession,
    IdentityLink,
    Paper,
    Question,
    Role,
    RollEntry,
    User,
)


def _session_with_paper(db: Session, code: str = "U3") -> Paper:
    exam = ExamSession(name="BTS 2024 normale")
    paper = Paper(session=exam, code=code, title="Mathématiques", max_mark=Decimal(20))
    db.add(paper)
    db.flush()
    return paper


def _candidate(db: Session, registration: str = "0241234567", centre: Centre | None = None) -> Candidate:
    centre = centre or Centre(uai="0130040Y", name="Lycée Thiers")
    candidate = Candidate(registration=registration, surname="Martin", given_names="Léa", centre=centre)
    db.add(candidate)
    db.flush()
    return candidate


@pytest.mark.parametrize("uai", ["0130040Y", "9999999Z"])
def test_valid_uai_is_kept(session_factory: sessionmaker[Session], uai: str) -> None:
    with session_factory() as db:
        db.add(Centre(uai=uai, name="c"))
        db.add(Establishment(uai=uai, name="e"))
        db.commit()
        assert db.scalars(select(Centre.uai)).one() == uai
        assert db.scalars(select(Establishment.uai)).one() == uai


@pytest.mark.parametrize("uai", ["0130040y", "013004Y", "01300400Y", "A130040Y", "", "0130040 Y"])
def test_bad_uai_is_refused(uai: str) -> None:
    with pytest.raises(ValueError, match="UAI"):
        Centre(uai=uai)
    with pytest.raises(ValueError, match="UAI"):
        Establishment(uai=uai)


@pytest.mark.parametrize("registration", ["abc12345", "123", "A" * 17, "0241-2345"])
def test_bad_registration_is_refused(registration: str) -> None:
    with pytest.raises(ValueError, match="registration"):
        Candidate(registration=registration, surname="x", given_names="y")


def test_registration_is_unique(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        centre = Centre(uai="0130040Y")
        _candidate(db, "0241234567", centre)
        db.commit()
        db.add(Candidate(registration="0241234567", surname="Other", given_names="A", centre=centre))
        with pytest.raises(IntegrityError):
            db.flush()


def test_paper_code_is_unique_within_a_session_only(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        other_session = ExamSession(name="BTS 2024 remplacement")
        db.add(Paper(session=other_session, code="U3"))
        db.commit()  # same code in another session: allowed
        db.add(Paper(session_id=paper.session_id, code="U3"))
        with pytest.raises(IntegrityError):
            db.flush()


def test_roll_entry_is_unique_per_candidate_and_paper(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        candidate = _candidate(db)
        db.add(RollEntry(candidate=candidate, paper=paper))
        db.commit()
        db.add(RollEntry(candidate_id=candidate.id, paper_id=paper.id))
        with pytest.raises(IntegrityError):
            db.flush()


@pytest.mark.parametrize("step", ["0.5", "1"])
def test_question_step_half_or_whole_is_accepted(session_factory: sessionmaker[Session], step: str) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        paper.questions.append(Question(position=1, label="1", max_points=Decimal(4), step=Decimal(step)))
        db.commit()
        assert db.scalars(select(Question.step)).one() == Decimal(step)


@pytest.mark.parametrize("step", ["0.25", "2", "0"])
def test_question_step_other_than_half_or_whole_is_refused(
    session_factory: sessionmaker[Session], step: str
) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        paper.questions.append(Question(position=1, label="1", max_points=Decimal(4), step=Decimal(step)))
        with pytest.raises(IntegrityError):
            db.flush()


@pytest.mark.parametrize("max_points", ["1.25", "0", "-1"])
def test_question_maximum_in_half_points_and_positive(
    session_factory: sessionmaker[Session], max_points: str
) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        paper.questions.append(Question(position=1, label="1", max_points=Decimal(max_points)))
        with pytest.raises(IntegrityError):
            db.flush()


def test_questions_keep_their_order_and_follow_their_paper(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        for position, label in [(3, "Ex 3"), (1, "Ex 1"), (2, "Ex 2")]:
            paper.questions.append(Question(position=position, label=label, max_points=Decimal(5)))
        db.commit()
        paper_id = paper.id
    with session_factory() as db:
        paper = db.get(Paper, paper_id)
        assert [q.label for q in paper.questions] == ["Ex 1", "Ex 2", "Ex 3"]
        # An orphan question (removed from the barème) is deleted, not left dangling.
        paper.questions.pop(0)
        db.commit()
        assert db.scalar(select(text("count(*)")).select_from(Question)) == 2
        db.delete(paper)
        db.commit()
        assert db.scalar(select(text("count(*)")).select_from(Question)) == 0


def test_identity_link_is_a_table_of_its_own(session_factory: sessionmaker[Session]) -> None:
    # Corrector-facing queries read `copy`; the candidate must not be reachable from there.
    copy_columns = {c.key for c in inspect(Copy).columns}
    assert not {c for c in copy_columns if "candidate" in c}
    assert not {r.key for r in inspect(Copy).relationships} & {"candidate", "identity", "identity_link"}
    with session_factory() as db:
        u3 = _session_with_paper(db, "U3")
        u4 = Paper(session_id=u3.session_id, code="U4")
        db.add(u4)
        db.flush()
        candidate = _candidate(db)
        for copy_id, paper in [("K7M2Q9XA", u3), ("P3R8T2VB", u4)]:
            db.add(Copy(id=copy_id, paper_id=paper.id, centre_id=candidate.centre_id))
            db.flush()
            db.add(IdentityLink(copy_id=copy_id, candidate_id=candidate.id))
        db.commit()  # one candidate, one copy per paper he sits
        assert db.scalar(select(text("count(*)")).select_from(IdentityLink)) == 2
        other = _candidate(db, "0249999999", db.get(Centre, candidate.centre_id))
        db.add(IdentityLink(copy_id="K7M2Q9XA", candidate_id=other.id))
        with pytest.raises(IntegrityError):
            db.flush()  # a copy belongs to one candidate only


def test_enums_round_trip_as_their_values(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        candidate = _candidate(db)
        for role in Role:
            db.add(User(username=f"u-{role.value}", role=role))
        db.add(RollEntry(candidate=candidate, paper=paper, attendance=Attendance.ABSENT))
        db.add(Copy(id="K7M2Q9XA", paper_id=paper.id, centre_id=candidate.centre_id, status=CopyStatus.BLANK))
        db.commit()
    with session_factory() as db:
        users = {u.username: u.role for u in db.scalars(select(User))}
        assert users == {f"u-{role.value}": role for role in Role}
        assert all(type(r) is Role for r in users.values())
        assert db.scalars(select(RollEntry.attendance)).one() is Attendance.ABSENT
        assert db.scalars(select(Copy.status)).one() is CopyStatus.BLANK
        # Stored as the readable value, so SQL reports and other tools see "office", not "OFFICE".
        raw = db.execute(text("SELECT role FROM app_user ORDER BY role")).scalars().all()
        assert raw == sorted(r.value for r in Role)
        assert db.execute(text("SELECT attendance FROM roll_entry")).scalar_one() == "absent"


def test_roll_entry_defaults_to_registered(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        db.add(RollEntry(candidate=_candidate(db), paper=paper))
        db.commit()
        assert db.scalars(select(RollEntry.attendance)).one() is Attendance.REGISTERED


def test_datetimes_keep_their_instant_on_every_database(session_factory: sessionmaker[Session]) -> None:
    paris = timezone(timedelta(hours=2))
    opens = datetime(2024, 5, 22, 8, 0, tzinfo=paris)
    with session_factory() as db:
        paper = _session_with_paper(db)
        paper.window_opens = opens
        paper.sitting_date = date(2024, 5, 15)
        db.commit()
    with session_factory() as db:
        stored = db.scalars(select(Paper.window_opens)).one()
        assert stored == opens
        assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
        assert stored == datetime(2024, 5, 22, 6, 0, tzinfo=UTC)
        assert db.scalars(select(Paper.sitting_date)).one() == date(2024, 5, 15)


def test_naive_datetime_is_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        paper = _session_with_paper(db)
        paper.window_opens = datetime(2024, 5, 22, 8, 0)
        with pytest.raises(StatementError, match="time zone"):
            db.flush()
