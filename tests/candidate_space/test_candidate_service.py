"""The candidate space's services on SQLite and PostgreSQL: access letters and their codes,
activation, the candidate's login count, what he sees of each paper, his copy behind an opaque
token, and review requests answered by the office."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import HTTPException
from sqlalchemy import select

from correction_server.auth.access import NOT_YOURS
from correction_server.auth.login_limit import LoginRateLimiter
from correction_server.candidate_space import activation, copies, letters, results, review_requests
from correction_server.candidate_space.results import Access, ResultFacts, result_text
from correction_server.closing.holds import place_hold, release_hold
from correction_server.closing.jury import record_jury_decision
from correction_server.closing.publication import one_year_after
from correction_server.models import (
    ActivationCode,
    AuditEntry,
    Candidate,
    CandidateAccount,
    JuryDecision,
    LoginFailure,
    Role,
    User,
)
from massicot_core.errors import Refused
from massicot_core.words import translate
from testkit.missing import missing
from testkit.worlds.candidate import (
    APPRECIATION,
    OFFICE,
    birth_date_of,
    build_candidate_world,
    issue_letter,
    move_publication,
    publish,
)

SECRET = "candidate-service-secret"
PASSWORD = "une phrase assez longue"


@pytest.fixture
def world(session_factory, tmp_path):
    return build_candidate_world(session_factory, tmp_path, tmp_path / "store")


def _activate(factory, world, code, registration=None, born=None, password=PASSWORD, limiter=None, now=None):
    registration = registration or world.registration
    with factory() as session:
        return activation.activate(
            session,
            limiter or LoginRateLimiter(),
            SECRET,
            "10.0.0.7",
            registration,
            born or birth_date_of(factory, registration),
            code,
            (password, password),
            now=now,
        )


def _refusal(call) -> Refused:
    with pytest.raises(Refused) as caught:
        call()
    return caught.value


def test_letters_one_page_per_candidate_codes_kept_only_hashed_and_reissue_kills_the_old(
    session_factory, world, tmp_path
):
    with session_factory() as session:
        chosen = letters.candidates_for(session, paper_code="u3")
        issued = letters.issue_codes(session, chosen, OFFICE, "Office", "paper U3")
        pdf = letters.letters_pdf(issued, "https://examens.example.fr/candidate")
        session.commit()
        assert len(issued) == len(chosen) == 60
        assert len({x.code for x in issued}) == 60
        stored = session.scalars(select(ActivationCode.code_sha256)).all()
        assert all(letters.code_hash(x.code) in stored for x in issued)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == letters.ISSUED)).one()
        logged = json.dumps(entry.details)
        assert entry.details["registrations"] == [x.registration for x in issued]
        assert not any(x.code in logged or x.code.replace("-", "") in logged for x in issued)
        by_centre = letters.candidates_for(session, centre_uai="0130040Y")
        assert 0 < len(by_centre) < 60
        assert _refusal(
            lambda: letters.candidates_for(session, paper_code="U3", centre_uai="0130040Y")
        ).key == ("candidate.err.letters_which")
        assert (
            _refusal(lambda: letters.candidates_for(session, paper_code="ZZ9")).key
            == "candidate.err.no_paper"
        )
    path = tmp_path / "letters.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdfinfo") is None:
        missing("pdfinfo is missing (apt-get install poppler-utils)")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+60$", info, re.M), info
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert (
        issued[0].code in text and issued[0].registration in text and "examens.example.fr/candidate" in text
    )
    # A new letter: the old code is refused as replaced, the new one works.
    old = next(x.code for x in issued if x.registration == world.registration)
    new = issue_letter(session_factory, world.registration)
    assert _refusal(lambda: _activate(session_factory, world, old)).key == "candidate.err.code_replaced"
    done = _activate(session_factory, world, new)
    assert done.user.role == Role.CANDIDATE and done.candidate.registration == world.registration


def test_activation_refuses_in_plain_words_and_the_code_works_once(session_factory, world):
    code = issue_letter(session_factory, world.registration)
    wrong_birth = _refusal(lambda: _activate(session_factory, world, code, born="01/01/1990"))
    unknown = _refusal(
        lambda: _activate(session_factory, world, code, registration="99999999999", born="01/01/2000")
    )
    someone_else = _refusal(
        lambda: _activate(session_factory, world, code, registration=world.other_registration)
    )
    guessed = _refusal(lambda: _activate(session_factory, world, "ABCD-EFGH-JKLM-NPQR"))
    # The same sentence whatever was wrong: the page tells no one which numbers exist.
    assert {r.key for r in (wrong_birth, unknown, someone_else, guessed)} == {"candidate.err.no_match"}
    short = _refusal(lambda: _activate(session_factory, world, code, password="court"))
    assert short.key == "account.password.err.too_short"
    # Typed as read from paper: lower case, spaces instead of dashes.
    done = _activate(session_factory, world, code.lower().replace("-", " "))
    with session_factory() as session:
        account = session.scalar(select(CandidateAccount).where(CandidateAccount.user_id == done.user.id))
        assert account is not None
        user = session.get(User, done.user.id)
        assert user.password_hash and PASSWORD not in user.password_hash
        row = session.scalar(
            select(ActivationCode).where(ActivationCode.code_sha256 == letters.code_hash(code))
        )
        assert row.used_at is not None
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == activation.ACTIVATED)).all()
        assert len(entries) == 1 and code not in json.dumps(entries[0].details)
    used = _refusal(lambda: _activate(session_factory, world, code))
    assert used.key == "candidate.err.code_used"
    assert "déjà servi" in used.words("fr")
    # Expired: a letter issued 61 days ago with 60 days of validity.
    late = issue_letter(session_factory, world.other_registration, now=datetime.now(UTC) - timedelta(days=61))
    expired = _refusal(lambda: _activate(session_factory, world, late, registration=world.other_registration))
    assert expired.key == "candidate.err.code_expired" and "expiré" in expired.words("fr")
    # A new letter for a forgotten password: the same account, a new password.
    again = issue_letter(session_factory, world.registration)
    second = _activate(session_factory, world, again, password="une autre phrase longue")
    assert second.user.id == done.user.id
    with session_factory() as session:
        login = activation.candidate_login(
            session, LoginRateLimiter(), SECRET, "10.0.0.7", world.registration, "une autre phrase longue"
        )
        assert login.cookie_value


def test_candidate_logins_are_counted_apart_from_staff_logins(session_factory, world):
    code = issue_letter(session_factory, world.registration)
    _activate(session_factory, world, code)
    limiter = LoginRateLimiter(max_failures=3, max_failures_per_ip=4)
    with session_factory() as session:
        # Staff failures from the same address use up the staff ceiling only.
        for k in range(4):
            attempt = limiter.begin(session, f"someone{k}@lycee.fr", "10.0.0.7")
            assert not attempt.refused
        assert limiter.begin(session, "other@lycee.fr", "10.0.0.7").refused
        for _ in range(3):
            failed = _refusal(
                lambda: activation.candidate_login(
                    session, limiter, SECRET, "10.0.0.7", world.registration, "faux"
                )
            )
            assert failed.key == "candidate.err.login_failed"
        blocked = _refusal(
            lambda: activation.candidate_login(
                session, limiter, SECRET, "10.0.0.7", world.registration, PASSWORD
            )
        )
        assert blocked.key == "candidate.err.too_many" and blocked.status == 429
        keys = set(session.scalars(select(LoginFailure.username)))
        assert f"candidate:login:{world.registration}".lower() in keys
        # Another candidate behind the same school network still logs in (its own count).
        other_ok = activation.candidate_login(
            session,
            LoginRateLimiter(max_failures=3, max_failures_per_ip=50),
            SECRET,
            "10.0.0.8",
            world.registration,
            PASSWORD,
        )
        assert other_ok.cookie_value
        # The staff login form does not open a candidate account.
        from correction_server.auth import sessions as auth

        assert auth.authenticate(session, world.registration, PASSWORD).role == Role.CANDIDATE


def test_result_text_is_the_one_place_deciding_what_a_result_says():
    assert result_text(ResultFacts(marked=True, corrector_mark_20=Decimal("12.5"))).values == {"mark": "12,5"}
    jury = result_text(ResultFacts(marked=True, corrector_mark_20=Decimal(9), jury_mark_20=Decimal(10)))
    assert jury.key == "candidate.result.jury" and jury.jury_changed
    assert jury.values == {"mark": "10", "corrector": "9"}
    same = result_text(ResultFacts(marked=True, corrector_mark_20=Decimal(9), jury_mark_20=Decimal(9)))
    assert same.key == "candidate.result.mark" and not same.jury_changed
    assert result_text(ResultFacts(marked=True, special="AB")).key == "candidate.result.absent"
    assert result_text(ResultFacts(marked=True, special="00")).key == "candidate.result.blank"
    assert (
        result_text(ResultFacts(marked=True, justified_absence=True)).key
        == "candidate.result.justified_absence"
    )
    assert translate("fr", "candidate.result.justified_absence") == "Absence justifiée"
    assert result_text(ResultFacts(marked=False)).key == "candidate.result.not_available"


def _candidate(session, registration) -> Candidate:
    return session.scalar(select(Candidate).where(Candidate.registration == registration))


def test_what_a_candidate_sees_before_during_and_after_the_year_and_under_a_hold(session_factory, world):
    now = datetime.now(UTC)
    with session_factory() as session:
        me = _candidate(session, world.registration)
        [line] = results.papers_of_candidate(session, me, now)
        assert line.access == Access.NOT_PUBLISHED and line.result is None and line.copy_id is None
        token = copies.copy_token(SECRET, world.copy_id)
        with pytest.raises(HTTPException) as caught:
            copies.open_own_copy(session, me, SECRET, token)
        assert caught.value.status_code == 404 and caught.value.detail == NOT_YOURS
    publish(session_factory, world.paper_id, days_ago=10)
    with session_factory() as session:
        me = _candidate(session, world.registration)
        [line] = results.papers_of_candidate(session, me, now)
        assert line.access == Access.OPEN and line.copy_id == world.copy_id
        assert line.result.key == "candidate.result.mark" and line.result.values == {"mark": "10"}
        own = copies.open_own_copy(session, me, SECRET, token)
        view = copies.copy_view(session, world.store, world.store.root / "derived", own, token)
        assert view.appreciation == APPRECIATION and len(view.pages) == 2
        assert 'class="ann cross"' in view.pages[0].layer and 'stroke="#c8102e"' in view.pages[0].layer
        assert "Justifier ce calcul" in view.pages[0].layer and view.pages[1].layer == ""
        assert [q["points"] for q in view.questions] == ["2"] * len(world.coord.question_ids)
        # Another candidate's token, a guess, the copy id itself: all "does not exist".
        for wrong in (copies.copy_token(SECRET, world.other_copy_id), "0" * 32, world.copy_id, ""):
            with pytest.raises(HTTPException) as caught:
                copies.open_own_copy(session, me, SECRET, wrong)
            assert caught.value.detail == NOT_YOURS
        record_jury_decision(session, world.paper_id, world.registration, "11", "points jury", OFFICE, "Jury")
        session.commit()
        [line] = results.papers_of_candidate(session, me, now)
        assert line.result.key == "candidate.result.jury" and line.result.values == {
            "mark": "11",
            "corrector": "10",
        }
        place_hold(session, world.registration, "suspicion de fraude", OFFICE, "Office")
        session.commit()
        [line] = results.papers_of_candidate(session, me, now)
        assert line.access == Access.WITHHELD and line.result is None and line.published_at is None
        with pytest.raises(HTTPException):
            copies.open_own_copy(session, me, SECRET, token)
        release_hold(session, world.registration, "classement sans suite", OFFICE, "Office")
        session.commit()
        assert results.papers_of_candidate(session, me, now)[0].access == Access.OPEN
    move_publication(session_factory, world.paper_id, days_ago=400)
    with session_factory() as session:
        me = _candidate(session, world.registration)
        [line] = results.papers_of_candidate(session, me, datetime.now(UTC))
        assert line.access == Access.CLOSED and line.result is None
        assert line.closes_at == one_year_after(line.published_at)
        with pytest.raises(HTTPException):
            copies.open_own_copy(session, me, SECRET, token)


def test_a_review_request_reaches_the_office_and_its_answer_and_correction_are_kept(session_factory, world):
    publish(session_factory, world.paper_id)
    user = type("U", (), {"id": None, "role": Role.CANDIDATE})
    from correction_server.audit.actors import actor_of

    with session_factory() as session:
        me = _candidate(session, world.registration)
        actor = actor_of(user)
        short = _refusal(
            lambda: review_requests.ask_review(session, me, world.paper_id, world.copy_id, "?", actor)
        )
        assert short.key == "candidate.err.request_empty"
        row = review_requests.ask_review(
            session,
            me,
            world.paper_id,
            world.copy_id,
            "Question 1 : 2 points sur la copie, total faux.",
            actor,
        )
        session.commit()
        pending = _refusal(
            lambda: review_requests.ask_review(
                session, me, world.paper_id, world.copy_id, "Encore une fois.", actor
            )
        )
        assert pending.key == "candidate.err.request_pending"
        [listed] = review_requests.office_requests(session, open_only=True)
        assert listed.registration == world.registration and listed.copy_id == world.copy_id
        review_requests.answer_review(session, row.id, "Erreur d'addition corrigée.", "12", OFFICE, "Office")
        session.commit()
        decision = session.scalar(select(JuryDecision).where(JuryDecision.copy_id == world.copy_id))
        assert decision.mark_20 == Decimal("12.00") and decision.original == "10"
        [asked] = review_requests.requests_of_copy(session, world.copy_id)
        assert asked.answer == "Erreur d'addition corrigée." and asked.corrected_mark_20 == Decimal("12.00")
        again = _refusal(
            lambda: review_requests.answer_review(session, row.id, "Autre réponse.", "", OFFICE, "O")
        )
        assert again.key == "candidate.err.request_answered"
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {review_requests.ASKED, review_requests.ANSWERED, "closing.jury_mark"} <= actions
        [line] = results.papers_of_candidate(session, me, datetime.now(UTC))
        assert line.result.values == {"mark": "12", "corrector": "10"}


def test_a_justified_absence_recorded_by_the_office_is_what_the_candidate_reads(session_factory, world):
    """Rule 19: the office's record of a justified absence is what the candidate reads."""
    from correction_server.models import AbsenceJustification

    publish(session_factory, world.paper_id, days_ago=10)
    now = datetime.now(UTC)
    with session_factory() as session:
        me = _candidate(session, world.registration)
        # Recorded directly: the service allows it only for an AB copy, which this world has not.
        session.add(
            AbsenceJustification(
                candidate_id=me.id,
                paper_id=world.paper_id,
                evidence="certificat médical",
                by_name="Office",
                at=now,
            )
        )
        session.commit()
        [line] = results.papers_of_candidate(session, me, now)
        assert line.access == Access.OPEN and line.result.key == "candidate.result.justified_absence"
