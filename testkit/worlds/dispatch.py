"""Generated exam sessions for the dispatch tests and bench/dispatch.py (plain data, no database)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.dispatch.planning import CopyToPlace, CorrectorSeat
from correction_server.models import (
    Candidate,
    Centre,
    Copy,
    CorrectorPaper,
    Establishment,
    ExamSession,
    IdentityLink,
    Paper,
    Role,
    User,
)


@dataclass
class GeneratedSession:
    copies: list[CopyToPlace]
    seats: list[CorrectorSeat]
    establishment_names: dict[int, str]


def generate_session(
    n_copies: int = 10_000,
    n_correctors: int = 60,
    n_centres: int = 40,
    n_establishments: int = 150,
    seed: int = 7,
    id_prefix: str = "K",
) -> GeneratedSession:
    """Candidates from `n_establishments` (sizes uneven, a few big lycées) sitting in `n_centres`;
    correctors teach in those same établissements; declared capacities total ~110 % of the copies."""
    rng = random.Random(seed)
    weights = [rng.paretovariate(1.5) for _ in range(n_establishments)]
    establishments = list(range(1, n_establishments + 1))
    centre_of_establishment = {e: f"C{rng.randrange(n_centres):03d}" for e in establishments}
    copies = []
    for i in range(n_copies):
        e = rng.choices(establishments, weights)[0]
        copies.append(CopyToPlace(f"{id_prefix}{i:07d}", centre_of_establishment[e], e))
    raw = [rng.uniform(0.5, 1.5) for _ in range(n_correctors)]
    scale = 1.1 * n_copies / sum(raw)
    seats = [
        CorrectorSeat(
            user_id=100 + k,
            name=f"Corrector {k}",
            # Correctors teach where candidates come from, big établissements more often.
            establishment_id=rng.choices(establishments, weights)[0],
            capacity=max(1, round(raw[k] * scale)),
        )
        for k in range(n_correctors)
    ]
    return GeneratedSession(copies, seats, {e: f"Lycée {e} (00{e:05d}X)" for e in establishments})


def populate(factory: sessionmaker[Session], g: GeneratedSession, paper_code: str = "U3") -> int:
    """Write a generated session into a migrated database (bulk inserts); returns the paper id.

    Centres and établissements get valid UAI codes; every copy has its candidate (identity link);
    seats become corrector accounts with their établissement and capacity."""
    with factory() as session, session.begin():
        exam = ExamSession(name=f"Generated {paper_code}")
        paper = Paper(session=exam, code=paper_code, title="Generated", max_mark=Decimal(20))
        session.add_all([exam, paper])
        session.flush()
        centres = sorted({c.centre for c in g.copies})
        centre_ids = {}
        for i, label in enumerate(centres):
            uai = f"{9000000 + i:07d}A"
            row = session.scalar(select(Centre).where(Centre.uai == uai)) or Centre(uai=uai, name=label)
            session.add(row)
            session.flush()
            centre_ids[label] = row.id
        establishment_ids = {}
        for e in sorted(
            {c.establishment_id for c in g.copies} | {s.establishment_id for s in g.seats} - {None}
        ):
            uai = f"{8000000 + e:07d}B"
            row = session.scalar(select(Establishment).where(Establishment.uai == uai)) or Establishment(
                uai=uai, name=g.establishment_names.get(e, f"Lycée {e}")
            )
            session.add(row)
            session.flush()
            establishment_ids[e] = row.id
        session.execute(
            insert(Candidate),
            [
                {
                    "registration": f"R{c.copy_id}",
                    "surname": f"S{i}",
                    "given_names": "G",
                    "establishment_id": establishment_ids.get(c.establishment_id),
                    "centre_id": centre_ids[c.centre],
                }
                for i, c in enumerate(g.copies)
            ],
        )
        cand_ids = dict(session.execute(select(Candidate.registration, Candidate.id)).all())
        session.execute(
            insert(Copy),
            [{"id": c.copy_id, "paper_id": paper.id, "centre_id": centre_ids[c.centre]} for c in g.copies],
        )
        session.execute(
            insert(IdentityLink),
            [{"copy_id": c.copy_id, "candidate_id": cand_ids[f"R{c.copy_id}"]} for c in g.copies],
        )
        for s in g.seats:
            user = User(
                username=f"{paper_code.lower()}-corrector{s.user_id}@example.fr",
                display_name=s.name,
                role=Role.CORRECTOR,
                establishment_id=establishment_ids.get(s.establishment_id),
            )
            session.add(user)
            session.flush()
            session.add(CorrectorPaper(user_id=user.id, paper_id=paper.id, capacity=s.capacity))
        return paper.id
