"""Conflicts of interest beyond one établissement (DOMAIN rule 23), on SQLite and PostgreSQL.

A corrector teaching in several établissements, and the office's explicit incompatibilities
(corrector ↔ candidate, corrector ↔ établissement): dispatch, reassignment and second reading
honour all of them, and say in plain words what they cannot place.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from correction_server.audit.actors import Actor
from correction_server.coordination.reassignment import reassign
from correction_server.coordination.refusals import CoordinationRefused
from correction_server.coordination.second_reading import request_second_reading
from correction_server.dispatch.planning import DispatchImpossible, dispatch_paper
from correction_server.models import (
    AuditEntry,
    Candidate,
    Centre,
    Copy,
    CorrectorEstablishment,
    CorrectorPaper,
    Establishment,
    ExamSession,
    IdentityLink,
    Paper,
    Role,
    User,
)
from correction_server.models.dispatch import CorrectionLot, LotCopy
from correction_server.office import incompatibilities
from correction_server.office.accounts import import_accounts

MASSICOT = str(Path(sys.executable).with_name("massicot"))
OFFICE = Actor(None, "office")


@dataclass
class Conflicts:
    paper_id: int
    users: dict[str, int]  # a, b, c
    copies: dict[str, list[str]]  # établissement uai → copy ids
    trainee_copy: str  # the copy of the candidate incompatible with c


def _world(factory) -> Conflicts:
    with factory() as s, s.begin():
        exam = ExamSession(name="BTS 2026")
        paper = Paper(session=exam, code="U3", max_mark=Decimal(20))
        centre = Centre(uai="0130001A", name="Centre")
        schools = {
            uai: Establishment(uai=uai, name=f"Lycée {uai}") for uai in ("0130101C", "0130102D", "0130103E")
        }
        s.add_all([exam, paper, centre, *schools.values()])
        s.flush()
        copies: dict[str, list[str]] = {uai: [] for uai in schools}
        for n in range(8):
            uai = ("0130101C", "0130102D")[n % 2]
            cand = Candidate(
                registration=f"REG{n:05d}",
                surname="S",
                given_names="G",
                centre_id=centre.id,
                establishment_id=schools[uai].id,
            )
            s.add(cand)
            s.flush()
            copy = Copy(id=f"K{n:07d}", paper_id=paper.id, centre_id=centre.id)
            s.add(copy)
            s.flush()
            s.add(IdentityLink(copy_id=copy.id, candidate_id=cand.id))
            copies[uai].append(copy.id)
        users = {}
        # a teaches at C and also at D; b at D; c at E (no candidate of E sits the paper).
        for name, uai in (("a", "0130101C"), ("b", "0130102D"), ("c", "0130103E")):
            user = User(
                username=f"{name}@ac.fr",
                display_name=f"Prof {name.upper()}",
                role=Role.CORRECTOR,
                establishment_id=schools[uai].id,
            )
            s.add(user)
            s.flush()
            s.add(CorrectorPaper(user_id=user.id, paper_id=paper.id, capacity=10))
            users[name] = user.id
        return Conflicts(paper.id, users, copies, copies["0130101C"][0])


def _holders(factory) -> dict[str, int]:
    with factory() as s:
        return dict(
            s.execute(
                select(LotCopy.copy_id, CorrectionLot.corrector_id).join(
                    CorrectionLot, CorrectionLot.id == LotCopy.lot_id
                )
            ).all()
        )


def test_dispatch_honours_every_établissement_and_every_recorded_incompatibility(session_factory):
    w = _world(session_factory)
    with session_factory() as s:
        assert "also teaches at 0130102D" in incompatibilities.teaches_also(s, OFFICE, "a@ac.fr", "0130102D")
        incompatibilities.record(
            s, OFFICE, "office", "c@ac.fr", candidate="REG00000", reason="tuteur de stage"
        )
    with session_factory() as s:
        dispatch_paper(s, s.get(Paper, w.paper_id), seed=3)
    holders = _holders(session_factory)
    b, c = w.users["b"], w.users["c"]
    # C's candidates: not a (his own); D's candidates: neither a (his other school) nor b (his own).
    assert all(holders[x] in (b, c) for x in w.copies["0130101C"])
    assert all(holders[x] == c for x in w.copies["0130102D"])
    assert holders[w.trainee_copy] == b, "the trainee's copy never goes to his tutor"
    with session_factory() as s:
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {"incompatibility.teaches", "incompatibility.record"} <= actions


def test_a_copy_nobody_may_mark_is_explained_in_plain_words(session_factory):
    w = _world(session_factory)
    with session_factory() as s:
        incompatibilities.teaches_also(s, OFFICE, "a@ac.fr", "0130102D")
        incompatibilities.record(s, OFFICE, "office", "c@ac.fr", candidate="REG00000", reason="tuteur")
        incompatibilities.record(s, OFFICE, "office", "b@ac.fr", establishment="0130101C", reason="conjoint")
    with session_factory() as s, pytest.raises(DispatchImpossible) as refused:
        dispatch_paper(s, s.get(Paper, w.paper_id), seed=3)
    words = " ".join(refused.value.reasons_in("en"))
    assert "1 copies" in words and "K0000000" in words
    assert "the office recorded an incompatibility between Prof B and Lycée 0130101C (0130101C)" in words
    assert "the office recorded an incompatibility between Prof C and the candidate" in words
    assert "Prof A teaches at Lycée 0130101C (0130101C)" in words
    assert refused.value.reasons_in("fr")[0].startswith("1 copies")
    assert _holders(session_factory) == {}, "nothing was written"


def test_reassignment_and_second_reading_honour_them_too(session_factory):
    w = _world(session_factory)
    a, b, c = w.users["a"], w.users["b"], w.users["c"]
    with session_factory() as s, s.begin():  # c (who teaches at E) holds every copy
        lot = CorrectionLot(paper_id=w.paper_id, corrector_id=c, number=1, seed=1)
        s.add(lot)
        s.flush()
        for pos, copy_id in enumerate(sorted(w.copies["0130101C"] + w.copies["0130102D"]), start=1):
            s.add(LotCopy(lot_id=lot.id, copy_id=copy_id, position=pos))
    # Before the office records b ↔ C, a copy of C may go to b (and a second reading by b too).
    with session_factory() as s:
        reassign(s, w.paper_id, to_corrector_ids=[b], actor=OFFICE, by_name="office", copy_ids=["K0000002"])
        request_second_reading(s, "K0000004", b, OFFICE)
        s.commit()
    with session_factory() as s:
        incompatibilities.teaches_also(s, OFFICE, "a@ac.fr", "0130102D")
        incompatibilities.record(s, OFFICE, "office", "b@ac.fr", establishment="0130101C", reason="conjoint")
    # K0000001 is a candidate of D, where a also teaches: a may not take it.
    with session_factory() as s, pytest.raises(CoordinationRefused) as refused:
        reassign(s, w.paper_id, to_corrector_ids=[a], actor=OFFICE, by_name="office", copy_ids=["K0000001"])
    assert refused.value.key == "coordination.err.nowhere_to_go_copies"
    assert "K0000001" in refused.value.words("en") and "teaches at the candidate's établissement" in (
        refused.value.words("en")
    )
    # K0000000 (of C): a teaches there, b is recorded incompatible with C.
    with session_factory() as s, pytest.raises(CoordinationRefused) as both:
        reassign(
            s,
            w.paper_id,
            to_corrector_ids=[a, b],
            actor=OFFICE,
            by_name="office",
            copy_ids=["K0000000", "K0000001"],
        )
    assert "2 of the 2 copies" in both.value.words("en")
    assert _holders(session_factory) == {
        x: (b if x == "K0000002" else c) for x in w.copies["0130101C"] + w.copies["0130102D"]
    }
    with session_factory() as s, pytest.raises(CoordinationRefused) as teaches:
        request_second_reading(s, "K0000001", a, OFFICE)
    assert teaches.value.key == "coordination.err.reader_teaches"
    with session_factory() as s, pytest.raises(CoordinationRefused) as incompatible:
        request_second_reading(s, "K0000000", b, OFFICE)
    assert incompatible.value.key == "coordination.err.reader_incompatible"
    assert "incompatibility between Prof B" in incompatible.value.words("en")


def test_accounts_import_takes_several_établissements_and_the_cli_records_incompatibilities(
    session_factory, db_url, tmp_path
):
    w = _world(session_factory)
    accounts = tmp_path / "users.csv"
    accounts.write_text(
        "name,email,establishment_uai,papers,capacity,role\n"
        "Prof D,d@ac.fr,0130103E 0130101C;0130102D,U3,10,corrector\n",
        encoding="utf-8",
    )
    import_accounts(session_factory, accounts, "secret")
    with session_factory() as s:
        user = s.scalar(select(User).where(User.username == "d@ac.fr"))
        others = set(
            s.scalars(
                select(Establishment.uai)
                .join(CorrectorEstablishment, CorrectorEstablishment.establishment_id == Establishment.id)
                .where(CorrectorEstablishment.user_id == user.id)
            )
        )
        assert others == {"0130101C", "0130102D"}
    env = {**os.environ, "MASSICOT_SECRET_KEY": "x"}
    done = subprocess.run(
        [
            MASSICOT,
            "office",
            "incompatibility",
            "c@ac.fr",
            "--candidate",
            "REG00002",
            "--reason",
            "tuteur",
            "--db",
            db_url,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(
        [MASSICOT, "office", "incompatibilities", "--db", db_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "c@ac.fr ↔ candidate REG00002: tuteur" in listed.stdout
    refused = subprocess.run(
        [MASSICOT, "office", "incompatibility", "c@ac.fr", "--reason", "x", "--db", db_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert refused.returncode != 0 and "either --candidate" in refused.stderr + refused.stdout
    with session_factory() as s:
        dispatch_paper(s, s.get(Paper, w.paper_id), seed=4)
    holders = _holders(session_factory)
    with session_factory() as s:
        d_id = s.scalar(select(User.id).where(User.username == "d@ac.fr"))
        assert not any(holders[x] == d_id for x in w.copies["0130101C"] + w.copies["0130102D"])
        assert holders["K0000002"] != w.users["c"]
