"""The standardisation tests' world: the marking tests' one (testkit.worlds.marking) with the
barème not yet locked, plus the office, a second coordinator of the paper, and the coordinator
of another paper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from correction_server.models import CorrectorPaper, Paper, Question, Role, User
from testkit.worlds.marking import World, build_world


@dataclass
class EntenteWorld:
    base: World
    office_id: int
    second_coordinator_id: int  # also coordinates the paper
    other_coordinator_id: int  # coordinates another paper only
    other_paper_id: int

    @property
    def paper_id(self) -> int:
        return self.base.paper_id


def build_entente_world(
    factory: sessionmaker[Session], password_hash: str | None = None, **kw
) -> EntenteWorld:
    now = datetime.now(UTC)
    base = build_world(
        factory,
        locked=False,
        window=(now - timedelta(days=1), now + timedelta(days=5)),
        password_hash=password_hash,
        **kw,
    )
    with factory() as session, session.begin():
        paper = session.get(Paper, base.paper_id)
        other = Paper(session_id=paper.session_id, code="U4", title="Physics", max_mark=Decimal(20))
        other.questions.append(Question(position=0, label="1", max_points=Decimal(20), step=Decimal(1)))
        session.add(other)
        people = {
            name: User(username=name, display_name=name.title(), role=role, password_hash=password_hash)
            for name, role in (
                ("office", Role.OFFICE),
                ("coordinator2", Role.COORDINATOR),
                ("coordinator-u4", Role.COORDINATOR),
            )
        }
        session.add_all(people.values())
        session.flush()
        session.add(CorrectorPaper(user_id=people["coordinator2"].id, paper_id=paper.id, capacity=0))
        session.add(CorrectorPaper(user_id=people["coordinator-u4"].id, paper_id=other.id, capacity=0))
        session.flush()
        return EntenteWorld(
            base,
            office_id=people["office"].id,
            second_coordinator_id=people["coordinator2"].id,
            other_coordinator_id=people["coordinator-u4"].id,
            other_paper_id=other.id,
        )
