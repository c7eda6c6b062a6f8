"""A closed paper for the candidate-space tests: the generated U3 session of
testkit.worlds.coordination, real (grey) page images in a local store, one copy marked through the
marking service with an annotation layer (a red cross, a blue highlight, a text box), the
others marked too, and helpers to publish, hold and issue letters.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.audit import log as audit
from correction_server.candidate_space import letters
from correction_server.closing.candidates import find_candidate
from correction_server.closing.publication import publish_results
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import Candidate, CopyStatus, ResultsPublication
from correction_server.pages.store import LocalStore
from testkit.worlds.coordination import CoordWorld, build_world, mark_with_service

OFFICE = audit.Actor(None, "office")
CROSS = (0.30, 0.40)  # where the annotated copy's red cross is, as fractions of its first page
APPRECIATION = "Raisonnement clair, conclusion à justifier."


def grey_page(width: int = 1240, height: int = 1754) -> bytes:
    image = Image.new("L", (width, height), 250)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@dataclass
class CandidateWorld:
    coord: CoordWorld
    store: LocalStore
    copy_id: str  # the annotated copy
    registration: str  # its candidate
    other_copy_id: str  # another candidate's marked copy
    other_registration: str

    @property
    def paper_id(self) -> int:
        return self.coord.paper_id


def build_candidate_world(factory: sessionmaker[Session], folder: Path, store_path: Path) -> CandidateWorld:
    store = LocalStore(store_path)
    sha = store.put(grey_page())
    world = build_world(factory, folder, mark="none", image_shas=[sha, sha])
    ok = [c for c, s in sorted(world.status.items()) if s == CopyStatus.OK]
    annotated, other = ok[0], ok[1]
    first_page = world.page_ids[annotated][0]
    with factory() as session:
        save(
            session,
            world.corrector_of(annotated),
            annotated,
            SaveRequest(
                version=0,
                marks={q: "2" for q in world.question_ids},
                appreciation=APPRECIATION,
                layers={
                    first_page: [
                        {"id": "x1", "kind": "cross", "x": CROSS[0], "y": CROSS[1], "colour": "red"},
                        {
                            "id": "h1",
                            "kind": "highlight",
                            "x": 0.6,
                            "y": 0.7,
                            "w": 0.2,
                            "h": 0.05,
                            "colour": "blue",
                        },
                        {"id": "t1", "kind": "text", "x": 0.1, "y": 0.8, "text": "Justifier ce calcul"},
                    ]
                },
            ),
        )
    mark_with_service(factory, world, random.Random(3), skip={annotated})
    return CandidateWorld(world, store, annotated, world.copies[annotated], other, world.copies[other])


def publish(factory: sessionmaker[Session], paper_id: int, days_ago: int = 10) -> None:
    with factory() as session:
        publish_results(session, paper_id, datetime.now(UTC) - timedelta(days=days_ago), OFFICE, "Office")
        session.commit()


def move_publication(factory: sessionmaker[Session], paper_id: int, days_ago: int) -> None:
    """As if the results had been published `days_ago` days ago (to step past the year)."""
    with factory() as session:
        row = session.scalar(select(ResultsPublication).where(ResultsPublication.paper_id == paper_id))
        row.published_at = datetime.now(UTC) - timedelta(days=days_ago)
        session.commit()


def issue_letter(factory: sessionmaker[Session], registration: str, valid_days: int = 60, now=None) -> str:
    """A fresh access letter's code for one candidate."""
    with factory() as session:
        candidate = find_candidate(session, registration)
        code = letters.issue_codes(session, [candidate], OFFICE, "Office", "test", valid_days, now=now)[
            0
        ].code
        session.commit()
    return code


def birth_date_of(factory: sessionmaker[Session], registration: str) -> str:
    with factory() as session:
        born = session.scalar(select(Candidate.birth_date).where(Candidate.registration == registration))
    return born.strftime("%d/%m/%Y")
