"""Generated exam sessions for the coordination and closing tests.

A session is built with the product's own services where they exist:
the sample paper (massicot/samples/paper_u3.yaml) and a candidates file go through the office
imports, copies are dispatched by the dispatch service, the barème is locked by lock_scheme,
and marks go through the marking service (`saving.save`) — or, for the big statistical
sessions, straight into the marking tables (thousands of saves would only test the disk).

How marks are generated: each candidate has a level (normal, mean 11, sd 3.5 out of 20); a
question gets its share of that level plus noise, in the barème's steps; a corrector's bias
(e.g. -2 for a planted harsh corrector) is spread over the questions in proportion to their
maximum. So fair correctors differ only by the random make-up of their lots.
"""

from __future__ import annotations

import csv
import random
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

import massicot
from correction_server.app import create_app
from correction_server.audit import log as audit
from correction_server.auth import sessions as auth
from correction_server.dispatch.planning import dispatch_paper, find_paper
from correction_server.marking.saving import SaveRequest, save
from correction_server.marking.scheme import lock_scheme
from correction_server.models import (
    Attendance,
    Candidate,
    Copy,
    CopyStatus,
    CorrectorPaper,
    Establishment,
    IdentityLink,
    Marking,
    MarkingStatus,
    Page,
    Paper,
    QuestionMark,
    Role,
    RollEntry,
    SpecialMark,
    User,
)
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.office.candidates import CANDIDATE_COLUMNS, import_candidates
from correction_server.office.papers import import_paper
from correction_server.settings import Settings
from massicot_core.identifiers import new_copy_id

SAMPLES = Path(massicot.__file__).parent / "samples"
CENTRES = [("0130040Y", "Lycée Thiers"), ("0130041Z", "Lycée Périer"), ("0830032W", "Lycée Dumont")]


@dataclass
class CoordWorld:
    paper_id: int
    code: str
    question_ids: list[int]
    maxima: list[Decimal]
    correctors: dict[str, int]  # username -> id
    coordinator_id: int
    office_id: int
    copies: dict[str, str]  # copy id -> registration
    status: dict[str, CopyStatus]
    lots: dict[int, list[str]]  # corrector id -> copy ids (ASSIGNED)
    bias: dict[int, float] = field(default_factory=dict)
    page_ids: dict[str, list[int]] = field(default_factory=dict)

    def corrector_of(self, copy_id: str) -> int:
        return next(cid for cid, ids in self.lots.items() if copy_id in ids)


def write_candidates(path: Path, n: int, rng: random.Random, schools: int = 6) -> Path:
    """A candidates file in the import's format: n candidates over CENTRES and `schools` établissements."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANDIDATE_COLUMNS)
        for k in range(n):
            centre = CENTRES[k % len(CENTRES)]
            school = k % schools
            writer.writerow(
                [
                    f"0241{k:07d}",
                    f"NOM{k:04d}",
                    rng.choice(["Léa", "Hugo", "Inès", "Noah", "Jade", "Adam"]),
                    "2005-03-01",
                    f"01{school:05d}A",
                    f"Lycée {school}",
                    centre[0],
                    centre[1],
                    "U3",
                ]
            )
    return path


def paper_file(folder: Path) -> Path:
    """The sample paper with a correction window around today (the sample's is in 2024)."""
    text = (SAMPLES / "paper_u3.yaml").read_text(encoding="utf-8")
    now = datetime.now(UTC)
    text = text.replace("2024-05-22T08:00:00+02:00", (now - timedelta(days=5)).isoformat())
    text = text.replace("2024-06-09T20:00:00+02:00", (now + timedelta(days=10)).isoformat())
    path = folder / "paper_u3.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _person(
    session: Session, username: str, role: Role, paper_id: int, capacity: int, school: int | None
) -> User:
    user = User(
        username=username,
        display_name=username.split("@")[0].replace(".", " ").title(),
        email=username,
        role=role,
        establishment_id=school,
    )
    session.add(user)
    session.flush()
    if role in (Role.CORRECTOR, Role.COORDINATOR):
        session.add(CorrectorPaper(user_id=user.id, paper_id=paper_id, capacity=capacity))
    return user


def build_world(
    factory: sessionmaker[Session],
    folder: Path,
    *,
    candidates: int | None = None,  # None: the sample candidates file
    correctors: int = 4,
    bias: dict[int, float] | None = None,  # corrector index -> points out of 20
    seed: int = 7,
    absent_every: int = 0,  # every k-th candidate recorded absent (copy ABSENT)
    blank_every: int = 0,
    missing_every: int = 0,  # every k-th candidate has no copy at all
    mark: str = "service",  # "service", "direct" or "none"
    leave_unmarked: int = 0,  # copies left unmarked (the last ones of the first lot)
    image_shas: list[str] | None = None,
    password_hash: str | None = None,
) -> CoordWorld:
    rng = random.Random(seed)
    import_paper(factory, paper_file(folder))
    source = SAMPLES / "candidates.csv"
    if candidates is not None:
        source = write_candidates(folder / "candidates.csv", candidates, rng)
    import_candidates(factory, source)
    with factory() as session, session.begin():
        paper = find_paper(session, "U3")
        lock_scheme(session, paper, audit.SYSTEM)
        schools = sorted(session.scalars(select(Establishment.id)))
        users = {}
        for k in range(correctors):
            u = _person(
                session,
                f"corrector{k:02d}@lycee.fr",
                Role.CORRECTOR,
                paper.id,
                100,
                schools[k % len(schools)],
            )
            users[u.username] = u.id
            if password_hash:
                u.password_hash = password_hash
        coord = _person(session, "coordinator@ac.fr", Role.COORDINATOR, paper.id, 0, None)
        office = _person(session, "office@rectorat.fr", Role.OFFICE, paper.id, 0, None)
        if password_hash:
            coord.password_hash = office.password_hash = password_hash
        copies, status = {}, {}
        roll = session.execute(
            select(RollEntry, Candidate)
            .join(Candidate, Candidate.id == RollEntry.candidate_id)
            .where(RollEntry.paper_id == paper.id)
            .order_by(Candidate.registration)
        ).all()
        page_ids: dict[str, list[int]] = {}
        for k, (entry, cand) in enumerate(roll, start=1):
            if missing_every and k % missing_every == 0:
                entry.attendance = Attendance.PRESENT
                continue
            state = CopyStatus.OK
            entry.attendance = Attendance.PRESENT
            if absent_every and k % absent_every == 0:
                state, entry.attendance = CopyStatus.ABSENT, Attendance.ABSENT
            elif blank_every and k % blank_every == 0:
                state = CopyStatus.BLANK
            copy = Copy(id=new_copy_id(rng), paper_id=paper.id, centre_id=cand.centre_id, status=state)
            shas = image_shas or [f"{k:060x}{p:04x}" for p in range(2)]
            for pos, sha in enumerate(shas):
                copy.pages.append(Page(position=pos, number=pos + 1, image_sha256=sha))
            session.add(copy)
            session.flush()
            session.add(IdentityLink(copy_id=copy.id, candidate_id=cand.id))
            copies[copy.id] = cand.registration
            status[copy.id] = state
            page_ids[copy.id] = [p.id for p in copy.pages]
        questions = list(paper.questions)
        paper_id = paper.id
    with factory() as session:
        dispatch_paper(session, session.get(Paper, paper_id), seed=seed)
        lots: dict[int, list[str]] = {}
        for corrector_id, copy_id in session.execute(
            select(CorrectionLot.corrector_id, LotCopy.copy_id)
            .join(LotCopy, LotCopy.lot_id == CorrectionLot.id)
            .where(LotCopy.state == AssignmentState.ASSIGNED)
            .order_by(LotCopy.copy_id)
        ):
            lots.setdefault(corrector_id, []).append(copy_id)
    ids_in_order = sorted(users.values())
    biases = {ids_in_order[i]: b for i, b in (bias or {}).items()}
    world = CoordWorld(
        paper_id=paper_id,
        code="U3",
        question_ids=[q.id for q in questions],
        maxima=[q.max_points for q in questions],
        correctors=users,
        coordinator_id=coord.id,
        office_id=office.id,
        copies=copies,
        status=status,
        lots=lots,
        bias=biases,
        page_ids=page_ids,
    )
    skip = set(lots[min(lots)][-leave_unmarked:]) if leave_unmarked else set()
    if mark == "service":
        mark_with_service(factory, world, rng, skip)
    elif mark == "direct":
        mark_directly(factory, world, rng, skip)
    return world


def generated_points(world: CoordWorld, level: float, bias: float, rng: random.Random) -> dict[int, Decimal]:
    out = {}
    for qid, top in zip(world.question_ids, world.maxima, strict=True):
        share = float(top) / 20
        value = float(top) * level / 20 + bias * share + rng.gauss(0, 0.45 * share * 4)
        step = 1.0 if qid == world.question_ids[-1] else 0.5  # the sample's last question: whole points
        value = round(max(0.0, min(float(top), value)) / step) * step
        out[qid] = Decimal(str(value))
    return out


def _levels(world: CoordWorld, rng: random.Random) -> dict[str, float]:
    return {c: rng.gauss(11, 3.5) for c in sorted(world.copies)}


def mark_with_service(factory, world: CoordWorld, rng: random.Random, skip: set[str]) -> None:
    levels = _levels(world, rng)
    for corrector_id, ids in world.lots.items():
        for copy_id in ids:
            if copy_id in skip:
                continue
            with factory() as session:
                state = world.status[copy_id]
                if state in (CopyStatus.ABSENT, CopyStatus.BLANK):
                    request = SaveRequest(
                        version=0, special="AB" if state == CopyStatus.ABSENT else "00"
                    )
                else:
                    points = generated_points(world, levels[copy_id], world.bias.get(corrector_id, 0.0), rng)
                    request = SaveRequest(
                        version=0,
                        marks={q: str(v) for q, v in points.items()},
                        appreciation="Copie correcte, raisonnements à justifier davantage.",
                    )
                save(session, corrector_id, copy_id, request)


def mark_directly(factory, world: CoordWorld, rng: random.Random, skip: set[str]) -> None:
    levels = _levels(world, rng)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        for corrector_id, ids in world.lots.items():
            for copy_id in ids:
                if copy_id in skip:
                    continue
                state = world.status[copy_id]
                row = Marking(
                    copy_id=copy_id,
                    corrector_id=corrector_id,
                    version=1,
                    status=MarkingStatus.MARKED,
                    appreciation="Appréciation.",
                    updated_at=now,
                    marked_at=now,
                )
                if state == CopyStatus.ABSENT:
                    row.special = SpecialMark.ABSENT
                elif state == CopyStatus.BLANK:
                    row.special, row.total, row.mark_20 = SpecialMark.BLANK, Decimal(0), Decimal(0)
                session.add(row)
                session.flush()
                if row.special is None:
                    points = generated_points(world, levels[copy_id], world.bias.get(corrector_id, 0.0), rng)
                    row.total = row.mark_20 = sum(points.values(), Decimal(0))
                    session.execute(
                        insert(QuestionMark),
                        [{"marking_id": row.id, "question_id": q, "points": v} for q, v in points.items()],
                    )


# The coordination pages on a real application, for the web tests.
SECRET = "coordination-web-secret"


def client_for(db_url: str, store: Path) -> TestClient:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app(Settings(database_url=db_url, store_path=store, secret_key=SECRET))
    return TestClient(app, base_url="http://testserver")


def log_in(client: TestClient, factory, user_id: int) -> str:
    with factory() as session:
        opened = auth.open_session(session, session.get(User, user_id), SECRET)
        session.commit()
    client.cookies.clear()
    client.cookies.set(auth.SESSION_COOKIE, opened.cookie_value)
    return opened.csrf_token
