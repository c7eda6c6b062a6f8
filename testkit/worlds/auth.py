"""A small two-paper exam world with one account per role, for the authorisation tests.

Two papers (U3, U4), two centres, two établissements; candidates of both établissements sit
both papers; copies are dispatched by the real dispatch service. For each role the world
names an OWN and an OTHER object of every kind a route can take as a path parameter
(`World.objects[role][param_name] = (own, other)`), which is what tests/auth/test_matrix.py
substitutes into the paths.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.app import create_app
from correction_server.auth import sessions as auth
from correction_server.auth.tokens import issue_centre_token
from correction_server.candidate_space.copies import copy_token
from correction_server.dispatch.planning import dispatch_paper
from correction_server.models import (
    Attendance,
    Candidate,
    CandidateAccount,
    Centre,
    Comment,
    Copy,
    CorrectorPaper,
    Establishment,
    ExamSession,
    IdentityLink,
    Marking,
    MarkingStatus,
    Page,
    Paper,
    Question,
    RequestStatus,
    ResultsPublication,
    ReviewRequest,
    Role,
    RollEntry,
    ScanLot,
    SecondReading,
    User,
)
from correction_server.models.dispatch import CorrectionLot, LotCopy
from correction_server.models.office import OfficeAction
from correction_server.settings import Settings

SECRET = "test-secret-key-for-sessions"
ROLES = ("anonymous", "office", "centre", "corrector", "coordinator", "candidate")
PASSWORD = "a long test password"


@dataclass
class Account:
    user_id: int
    username: str
    bearer: str | None = None  # centre accounts: the scan-station token


@dataclass
class World:
    accounts: dict[str, Account]  # role → the account that plays it (not for "anonymous")
    users: dict[str, int]  # every user by username
    papers: dict[str, int]  # code → id
    lots: dict[str, int]  # "<username>/<paper>" → lot id
    copies_by_lot: dict[int, list[str]]
    objects: dict[str, dict[str, tuple[object, object]]] = field(default_factory=dict)
    newcomer_token: str = ""  # a valid set-password token


def build_world(factory: sessionmaker[Session], secret_key: str, hashed: bool = False) -> World:
    """`hashed=True` gives every account PASSWORD (slow: argon2); otherwise no password."""
    now = datetime.now(UTC)
    password_hash = auth.hash_password(PASSWORD) if hashed else None
    with factory() as session:
        exam = ExamSession(name="BTS 2026")
        papers = {}
        for code in ("U3", "U4"):
            paper = Paper(
                session=exam,
                code=code,
                title=f"Paper {code}",
                max_mark=Decimal(20),
                pages_per_copy=2,
                window_opens=now - timedelta(days=1),
                window_closes=now + timedelta(days=10),
                scheme_locked_at=now - timedelta(days=2),
            )
            paper.questions.append(
                Question(position=0, label="1", max_points=Decimal(8), step=Decimal("0.5"))
            )
            paper.questions.append(
                Question(position=1, label="2", max_points=Decimal(12), step=Decimal("0.5"))
            )
            papers[code] = paper
        centres = [Centre(uai="0130001A", name="Centre A"), Centre(uai="0130002B", name="Centre B")]
        schools = [
            Establishment(uai="0130101C", name="Lycée C"),
            Establishment(uai="0130102D", name="Lycée D"),
        ]
        session.add_all([exam, *papers.values(), *centres, *schools])
        session.flush()
        n = 0
        for k in range(8):
            school, centre = schools[k % 2], centres[k % 2]
            cand = Candidate(
                registration=f"REG{k:05d}",
                surname=f"Surname{k}",
                given_names="Given",
                establishment_id=school.id,
                centre_id=centre.id,
            )
            session.add(cand)
            session.flush()
            for paper in papers.values():
                n += 1
                session.add(RollEntry(candidate_id=cand.id, paper_id=paper.id, attendance=Attendance.PRESENT))
                copy = Copy(id=f"W{n:07d}", paper_id=paper.id, centre_id=centre.id)
                for pos in range(2):
                    copy.pages.append(Page(position=pos, number=pos + 1, image_sha256=f"{n * 10 + pos:064x}"))
                session.add(copy)
                session.flush()
                session.add(IdentityLink(copy_id=copy.id, candidate_id=cand.id))

        users: dict[str, User] = {}

        def person(username: str, role: Role, school: Establishment | None = None, **paper_caps: int) -> User:
            user = User(
                username=username,
                display_name=username.split("@")[0].title(),
                email=username,
                role=role,
                password_hash=password_hash,
                establishment_id=school.id if school else None,
            )
            session.add(user)
            session.flush()
            for code, cap in paper_caps.items():
                session.add(CorrectorPaper(user_id=user.id, paper_id=papers[code].id, capacity=cap))
            users[username] = user
            return user

        person("office@rectorat.fr", Role.OFFICE)
        person("c1@lycee.fr", Role.CORRECTOR, schools[0], U3=10)
        person("c2@lycee.fr", Role.CORRECTOR, schools[1], U3=10)
        person("c3@lycee.fr", Role.CORRECTOR, schools[0], U4=10)
        person("c4@lycee.fr", Role.CORRECTOR, schools[1], U4=10)
        person("k1@ac.fr", Role.COORDINATOR, None, U3=0)
        person("k2@ac.fr", Role.COORDINATOR, None, U4=0)
        newcomer = person("new@lycee.fr", Role.CORRECTOR, schools[0], U3=5)
        newcomer.active = True
        tokens = {}
        for centre in centres:
            tokens[centre.uai] = issue_centre_token(session, centre.uai, centre.name)
        for user in session.scalars(select(User).where(User.role == Role.CENTRE)):
            user.password_hash = password_hash
            users[user.username] = user
        seals = {}
        for i, centre in enumerate(centres):
            seal = f"{i + 1:x}" * 64
            session.add(ScanLot(seal_sha256=seal, centre_id=centre.id, paper_id=papers["U3"].id))
            seals[centre.uai] = seal
        comments = {}
        for username in ("c1@lycee.fr", "c2@lycee.fr", "k1@ac.fr", "k2@ac.fr"):
            code = "U3" if username in ("c1@lycee.fr", "c2@lycee.fr", "k1@ac.fr") else "U4"
            comment = Comment(
                paper_id=papers[code].id, owner_id=users[username].id, text=f"Comment of {username}"
            )
            session.add(comment)
            session.flush()
            comments[username] = comment.id
        # The newcomer holds no copy: dispatch gives copies to c1..c4 only.
        newcomer_cp = session.scalar(select(CorrectorPaper).where(CorrectorPaper.user_id == newcomer.id))
        newcomer_cp.capacity = 0
        session.commit()
        for paper in papers.values():
            dispatch_paper(session, paper, seed=1234)
        lots = {}
        copies_by_lot: dict[int, list[str]] = {}
        for lot in session.scalars(select(CorrectionLot)):
            owner = session.get(User, lot.corrector_id)
            code = session.get(Paper, lot.paper_id).code
            lots[f"{owner.username}/{code}"] = lot.id
            copies_by_lot[lot.id] = sorted(
                session.scalars(select(LotCopy.copy_id).where(LotCopy.lot_id == lot.id))
            )
        first_page = {
            c: session.scalar(select(Page.id).where(Page.copy_id == c).order_by(Page.position))
            for c in _all(copies_by_lot)
        }
        centre_of_copy = dict(session.execute(select(Copy.id, Copy.centre_id)).all())
        candidate_objects = _candidate_space(session, users, papers, password_hash, secret_key, now)
        world = World(
            accounts={
                "office": Account(users["office@rectorat.fr"].id, "office@rectorat.fr"),
                "centre": Account(users["centre-0130001A"].id, "centre-0130001A", tokens["0130001A"]),
                "corrector": Account(users["c1@lycee.fr"].id, "c1@lycee.fr"),
                "coordinator": Account(users["k1@ac.fr"].id, "k1@ac.fr"),
                "candidate": Account(users["REG00000"].id, "REG00000"),
            },
            users={name: u.id for name, u in users.items()},
            papers={code: p.id for code, p in papers.items()},
            lots=lots,
            copies_by_lot=copies_by_lot,
            newcomer_token=auth.set_password_token(newcomer, secret_key),
        )
        c1_lot, c2_lot = lots["c1@lycee.fr/U3"], lots["c2@lycee.fr/U3"]
        u3_lot, u4_lot = c1_lot, lots["c3@lycee.fr/U4"]
        c1_copy, c2_copy = copies_by_lot[c1_lot][0], copies_by_lot[c2_lot][0]
        u4_copy = copies_by_lot[u4_lot][0]
        # Second readings: c1 reads a copy of c2's lot (U3), c2 one of c1's, c4 one of c3's (U4).
        readings = {}
        for reader, lot in (("c1@lycee.fr", c2_lot), ("c2@lycee.fr", c1_lot), ("c4@lycee.fr", u4_lot)):
            reading = SecondReading(
                copy_id=copies_by_lot[lot][-1],
                paper_id=session.get(CorrectionLot, lot).paper_id,
                reader_id=users[reader].id,
                requested_at=now,
                marks={},
                appreciation="",
                reason="",
                decision_reason="",
            )
            session.add(reading)
            session.flush()
            readings[reader] = reading.id
        # Two finished office actions (the console's background work), for the action pages.
        office_actions = []
        for kind in ("audit_verify", "check_paper"):
            done = OfficeAction(
                kind=kind,
                target="-",
                state="done",
                done=1,
                total=1,
                outcome="",
                started_at=now,
                by_name="Office",
            )
            session.add(done)
            session.flush()
            office_actions.append(done.id)
        session.commit()
        centre_a = next(c for c in _all(copies_by_lot) if centre_of_copy[c] == centres[0].id)
        centre_b = next(c for c in _all(copies_by_lot) if centre_of_copy[c] == centres[1].id)
        own_other_by_role = {
            # role: own/other copy, own/other lot, own/other paper, own/other comment's author
            "anonymous": (c1_copy, u4_copy, u3_lot, u4_lot, "U3", "U4", "c1@lycee.fr", "k2@ac.fr"),
            "office": (c1_copy, u4_copy, u3_lot, u4_lot, "U3", "U4", "c1@lycee.fr", "k2@ac.fr"),
            "centre": (centre_a, centre_b, u3_lot, u4_lot, "U3", "U4", "c1@lycee.fr", "k2@ac.fr"),
            "corrector": (c1_copy, c2_copy, c1_lot, c2_lot, "U3", "U4", "c1@lycee.fr", "c2@lycee.fr"),
            "coordinator": (c1_copy, u4_copy, u3_lot, u4_lot, "U3", "U4", "k1@ac.fr", "k2@ac.fr"),
            "candidate": (c1_copy, u4_copy, u3_lot, u4_lot, "U3", "U4", "c1@lycee.fr", "k2@ac.fr"),
        }
        for role, (
            own_c,
            other_c,
            own_l,
            other_l,
            own_p,
            other_p,
            own_k,
            other_k,
        ) in own_other_by_role.items():
            own_seal = seals["0130001A"]
            other_seal = seals["0130002B"]
            world.objects[role] = {
                "copy_id": (own_c, other_c),
                "lot_id": (own_l, other_l),
                "paper_id": (papers[own_p].id, papers[other_p].id),
                "page_id": (first_page[own_c], first_page[other_c]),
                "comment_id": (comments[own_k], comments[other_k]),
                "seal": (own_seal, other_seal),
                "sha256": ("0" * 64, "0" * 64),
                "code": ("en", "fr"),
                "kind": ("subject", "subject"),
                "flag_id": (0, 0),
                "token": (world.newcomer_token, world.newcomer_token),
                # The candidate space: the candidate's own U3 copy and another candidate's (its token),
                # a page position, and review requests (his own, another's).
                "copy_token": candidate_objects["copy_token"],
                "position": (0, 0),
                "request_id": candidate_objects["request_id"],
                "action_id": (office_actions[0], office_actions[1]),
                "centre_id": (centres[0].id, centres[1].id),
                "user_id": (users["c1@lycee.fr"].id, users["c2@lycee.fr"].id),
                "reading_id": (
                    (readings["c1@lycee.fr"], readings["c2@lycee.fr"])
                    if role == "corrector"
                    else (readings["c1@lycee.fr"], readings["c4@lycee.fr"])
                ),
            }
        return world


def _candidate_space(
    session: Session, users: dict, papers: dict, password_hash, secret_key: str, now
) -> dict:
    """Candidate REG00000 has an account; U3's results are published and his U3 copy and
    REG00001's are marked; each of them has a review request. U4 is not published."""
    tokens, requests = [], []
    for registration in ("REG00000", "REG00001"):
        candidate = session.scalar(select(Candidate).where(Candidate.registration == registration))
        copy_id = session.scalar(
            select(Copy.id)
            .join(IdentityLink, IdentityLink.copy_id == Copy.id)
            .where(IdentityLink.candidate_id == candidate.id, Copy.paper_id == papers["U3"].id)
        )
        marker = session.scalar(select(User.id).where(User.username == "c1@lycee.fr"))
        session.add(
            Marking(
                copy_id=copy_id,
                corrector_id=marker,
                version=1,
                status=MarkingStatus.MARKED,
                appreciation="Bien.",
                total=Decimal(12),
                mark_20=Decimal(12),
                marked_at=now,
            )
        )
        request = ReviewRequest(
            candidate_id=candidate.id,
            paper_id=papers["U3"].id,
            copy_id=copy_id,
            message="Question 2 : erreur de report.",
            asked_at=now,
            status=RequestStatus.OPEN,
            answer="",
            answered_by_name="",
        )
        session.add(request)
        session.flush()
        tokens.append(copy_token(secret_key, copy_id))
        requests.append(request.id)
        if registration == "REG00000":
            user = User(
                username=registration,
                display_name="Given Surname0",
                role=Role.CANDIDATE,
                password_hash=password_hash,
            )
            session.add(user)
            session.flush()
            session.add(CandidateAccount(user_id=user.id, candidate_id=candidate.id, activated_at=now))
            users[registration] = user
    session.add(
        ResultsPublication(paper_id=papers["U3"].id, published_at=now - timedelta(days=3), by_name="Office")
    )
    session.commit()
    return {"copy_token": tuple(tokens), "request_id": tuple(requests)}


def _all(copies_by_lot: dict[int, list[str]]) -> list[str]:
    return sorted(c for ids in copies_by_lot.values() for c in ids)


def login_cookie(factory: sessionmaker[Session], user_id: int, secret_key: str) -> tuple[str, str]:
    """A fresh login session for `user_id` without the password: (cookie value, CSRF token)."""
    with factory() as session:
        user = session.get(User, user_id)
        opened = auth.open_session(session, user, secret_key)
        session.commit()
    return opened.cookie_value, opened.csrf_token


def make_client(
    db_url: str, store: Path, base_url: str = "http://testserver", client_ip: str = "testclient"
) -> TestClient:
    """A browser on the real application (in-process ASGI), with the tests' secret key."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic's "copy" field-name warnings of the scan manifest
        app = create_app(Settings(database_url=db_url, store_path=store, secret_key=SECRET))
    return TestClient(app, base_url=base_url, client=(client_ip, 50000))
