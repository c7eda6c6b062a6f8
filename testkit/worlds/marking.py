"""A small exam world for the marking tests: one paper, its barème, copies in correctors' lots.

The standardisation, coordination and browser tests build on it too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from correction_server.models import (
    Centre,
    Copy,
    CopyStatus,
    CorrectorPaper,
    ExamSession,
    Page,
    Paper,
    Question,
    Role,
    User,
)
from correction_server.models.dispatch import CorrectionLot, LotCopy

NOW = datetime(2025, 6, 1, 14, 0, tzinfo=UTC)


@dataclass
class World:
    paper_id: int
    question_ids: list[int]
    corrector_id: int
    other_corrector_id: int
    coordinator_id: int
    copies: list[str]  # in the corrector's lot: ok, ok, ok, blank, absent
    other_copy: str  # in the other corrector's lot
    pages: dict[str, list[int]] = field(default_factory=dict)
    lot_id: int = 0


def build_world(
    factory: sessionmaker[Session],
    *,
    maxima: tuple[str, ...] = ("4", "6", "10"),
    locked: bool = True,
    window: tuple[datetime, datetime] | None = (NOW - timedelta(days=3), NOW + timedelta(days=10)),
    password_hash: str | None = None,
    image_shas: list[str] | None = None,
) -> World:
    with factory() as session, session.begin():
        exam = ExamSession(name="BTS 2025")
        centre = Centre(uai="0130040Y", name="Lycée du Parc")
        paper = Paper(
            session=exam,
            code="U3",
            title="Mathematics",
            max_mark=sum(Decimal(m) for m in maxima),
            pages_per_copy=2,
            window_opens=window[0] if window else None,
            window_closes=window[1] if window else None,
            scheme_locked_at=(NOW - timedelta(days=4)) if locked else None,
        )
        for i, top in enumerate(maxima):
            paper.questions.append(
                Question(position=i, label=f"Question {i + 1}", max_points=Decimal(top), step=Decimal("0.5"))
            )
        session.add_all([exam, centre, paper])
        users = [
            User(username=name, display_name=name.title(), role=role, password_hash=password_hash)
            for name, role in (
                ("corrector1", Role.CORRECTOR),
                ("corrector2", Role.CORRECTOR),
                ("coordinator", Role.COORDINATOR),
            )
        ]
        session.add_all(users)
        session.flush()
        for user in users:
            session.add(CorrectorPaper(user_id=user.id, paper_id=paper.id, capacity=10))
        statuses = [CopyStatus.OK, CopyStatus.OK, CopyStatus.OK, CopyStatus.BLANK, CopyStatus.ABSENT]
        ids = [f"C{n:07d}" for n in range(1, len(statuses) + 2)]
        copies = []
        for copy_id, status in zip(ids, [*statuses, CopyStatus.OK], strict=True):
            copy = Copy(id=copy_id, paper_id=paper.id, centre_id=centre.id, status=status)
            for pos in range(2):
                sha = (image_shas or [f"{pos:064x}"])[pos % len(image_shas or [1])]
                copy.pages.append(Page(position=pos, number=pos + 1, image_sha256=sha))
            copies.append(copy)
        session.add_all(copies)
        lot = CorrectionLot(paper_id=paper.id, corrector_id=users[0].id, number=1, seed=1)
        other = CorrectionLot(paper_id=paper.id, corrector_id=users[1].id, number=2, seed=1)
        session.add_all([lot, other])
        session.flush()
        for pos, copy_id in enumerate(ids[:-1]):
            session.add(LotCopy(lot_id=lot.id, copy_id=copy_id, position=pos))
        session.add(LotCopy(lot_id=other.id, copy_id=ids[-1], position=0))
        session.flush()
        return World(
            paper_id=paper.id,
            question_ids=[q.id for q in paper.questions],
            corrector_id=users[0].id,
            other_corrector_id=users[1].id,
            coordinator_id=users[2].id,
            copies=ids[:-1],
            other_copy=ids[-1],
            pages={c.id: [p.id for p in c.pages] for c in copies},
            lot_id=lot.id,
        )


def page_jpeg(label: str, width: int = 1240, height: int = 1754) -> bytes:
    """A synthetic scanned page (150 dpi A4, grey): ruled lines and a label, as JPEG bytes."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(image)
    for y in range(200, height - 100, 60):
        draw.line([(80, y), (width - 80, y)], fill=200, width=2)
    draw.rectangle([60, 40, width - 60, 150], outline=30, width=4)
    draw.text((100, 80), label, fill=0)
    for k in range(12):
        draw.text((120, 230 + k * 120), f"{label} answer line {k + 1}: x = {k} + {k * 2}", fill=20)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    return out.getvalue()


def login_cookie(factory: sessionmaker[Session], user_id: int, secret_key: str) -> tuple[str, str]:
    """(session cookie value, CSRF token) of a fresh login, without the password round trip."""
    from correction_server.auth import sessions as auth
    from correction_server.models import User

    with factory() as session:
        opened = auth.open_session(session, session.get(User, user_id), secret_key)
        session.commit()
    return opened.cookie_value, opened.csrf_token
