"""A national paper in PostgreSQL at full size, for bench/national.py: written with COPY.

Half a million copies through the ORM would take the benchmark's whole budget measuring the
ORM; COPY writes the same rows the services write (every column, defaults as the models give
them), so what is measured afterwards is the services reading a database of that size.

What is written: the session and paper (barème, open window, locked scheme), the centres and
établissements, the candidates on the roll, one sealed scan lot per centre, the copies with
their identity links and pages, the correctors (établissement, capacity). Dispatch is left to
the service being measured; `mark_everything` then writes every copy's marking, as a closed
correction leaves it, for the exports.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from correction_server.models import (
    Candidate,
    Centre,
    Copy,
    CorrectorPaper,
    Establishment,
    ExamSession,
    IdentityLink,
    Marking,
    Page,
    Paper,
    Question,
    QuestionMark,
    RollEntry,
    ScanLot,
    User,
)
from correction_server.models.dispatch import LotCopy

MAXIMA = (Decimal(4), Decimal(6), Decimal(10))


@dataclass
class NationalPaper:
    paper_id: int
    code: str
    copies: int
    pages: int
    corrector_ids: list[int]


def _defaults(table: Table) -> dict[str, Any]:
    """The value each column gets when a row leaves it out, as the ORM would give it."""
    out: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if default is not None and default.is_scalar:
            arg = default.arg
            out[column.name] = arg.value if hasattr(arg, "value") else arg
        elif default is not None and default.is_callable and column.name.endswith("_at"):
            out[column.name] = datetime.now(UTC)
        elif column.server_default is None and column.nullable:
            out[column.name] = None
    return out


def copy_rows(engine: Engine, model: type, rows: Iterable[dict[str, Any]]) -> int:
    """COPY `rows` into the model's table; columns left out take the model's default."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    defaults = _defaults(table)
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    columns = [c.name for c in table.columns if c.name in first or c.name in defaults]
    columns = [c for c in columns if not (c == "id" and "id" not in first)]
    count = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in _chain(first, iterator):
                copy.write_row([_plain(row.get(c, defaults.get(c))) for c in columns])
                count += 1
        raw.commit()
    finally:
        raw.close()
    return count


def _chain(first: dict, rest: Iterator[dict]) -> Iterator[dict]:
    yield first
    yield from rest


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") and not isinstance(value, Decimal) else value


def populate(
    engine: Engine,
    factory,
    *,
    code: str,
    copies: int,
    centres: int,
    correctors: int,
    pages_per_copy: int = 4,
    seed: int = 7,
) -> NationalPaper:
    """One paper of `copies` copies from `centres` centres, `correctors` correctors; no lots yet."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        exam = ExamSession(name=f"Session nationale {code}")
        paper = Paper(
            session=exam,
            code=code,
            title=f"Épreuve {code}",
            max_mark=Decimal(20),
            pages_per_copy=pages_per_copy,
            window_opens=now - timedelta(days=1),
            window_closes=now + timedelta(days=20),
            scheme_locked_at=now - timedelta(days=2),
        )
        for i, top in enumerate(MAXIMA):
            paper.questions.append(
                Question(position=i, label=f"Q{i + 1}", max_points=top, step=Decimal("0.5"))
            )
        session.add_all([exam, paper])
        session.flush()
        paper_id = paper.id
    # Schools: UAI codes made unique per paper so that two papers of one run do not collide.
    tag = sum(map(ord, code)) % 90 + 10
    establishments = max(centres, correctors // 2)
    copy_rows(
        engine,
        Centre,
        ({"uai": f"{tag}{i:05d}A", "name": f"Centre {i}", "contact": ""} for i in range(centres)),
    )
    copy_rows(
        engine,
        Establishment,
        ({"uai": f"{tag}{i:05d}B", "name": f"Lycée {i}"} for i in range(establishments)),
    )
    with engine.connect() as conn:
        centre_ids = [
            r
            for (r,) in conn.execute(select(Centre.id).where(Centre.uai.like(f"{tag}%A")).order_by(Centre.id))
        ]
        school_ids = [
            r
            for (r,) in conn.execute(
                select(Establishment.id).where(Establishment.uai.like(f"{tag}%B")).order_by(Establishment.id)
            )
        ]
    weights = [rng.paretovariate(1.5) for _ in school_ids]
    centre_of_school = {e: rng.choice(centre_ids) for e in school_ids}
    school_of = rng.choices(school_ids, weights, k=copies)
    prefix = code[:3].upper()
    regs = [f"{prefix}{n:09d}" for n in range(copies)]
    copy_rows(
        engine,
        Candidate,
        (
            {
                "registration": regs[n],
                "surname": f"Nom{n}",
                "given_names": "Prénom",
                "establishment_id": school_of[n],
                "centre_id": centre_of_school[school_of[n]],
            }
            for n in range(copies)
        ),
    )
    with engine.connect() as conn:
        candidate_of = dict(
            conn.execute(
                select(Candidate.registration, Candidate.id).where(Candidate.registration.like(f"{prefix}%"))
            ).all()
        )
    copy_rows(engine, RollEntry, ({"candidate_id": candidate_of[r], "paper_id": paper_id} for r in regs))
    copy_rows(
        engine,
        ScanLot,
        (
            {
                "seal_sha256": hashlib.sha256(f"{code}-{c}".encode()).hexdigest(),
                "centre_id": c,
                "paper_id": paper_id,
            }
            for c in centre_ids
        ),
    )
    with engine.connect() as conn:
        lot_of_centre = dict(
            conn.execute(select(ScanLot.centre_id, ScanLot.id).where(ScanLot.paper_id == paper_id)).all()
        )
    copy_ids = [f"{prefix}{n:08X}" for n in range(copies)]
    copy_rows(
        engine,
        Copy,
        (
            {
                "id": copy_ids[n],
                "paper_id": paper_id,
                "centre_id": centre_of_school[school_of[n]],
                "scan_lot_id": lot_of_centre[centre_of_school[school_of[n]]],
            }
            for n in range(copies)
        ),
    )
    copy_rows(
        engine,
        IdentityLink,
        ({"copy_id": copy_ids[n], "candidate_id": candidate_of[regs[n]]} for n in range(copies)),
    )
    pages = copy_rows(
        engine,
        Page,
        (
            {
                "copy_id": cid,
                "position": p,
                "number": p + 1,
                "image_sha256": hashlib.sha256(f"{cid}/{p}".encode()).hexdigest(),
            }
            for cid in copy_ids
            for p in range(pages_per_copy)
        ),
    )
    # Capacities total ~110 % of the copies, uneven, as correctors declare them.
    raw = [rng.uniform(0.5, 1.5) for _ in range(correctors)]
    scale = 1.1 * copies / sum(raw)
    copy_rows(
        engine,
        User,
        (
            {
                "username": f"{code.lower()}-correcteur{k:05d}@example.fr",
                "display_name": f"Correcteur {k:05d}",
                "email": "",
                "role": "corrector",
                "establishment_id": rng.choices(school_ids, weights)[0],
                "active": True,
            }
            for k in range(correctors)
        ),
    )
    with engine.connect() as conn:
        corrector_ids = [
            r
            for (r,) in conn.execute(
                select(User.id).where(User.username.like(f"{code.lower()}-correcteur%")).order_by(User.id)
            )
        ]
    copy_rows(
        engine,
        CorrectorPaper,
        (
            {"user_id": uid, "paper_id": paper_id, "capacity": max(1, round(raw[k] * scale))}
            for k, uid in enumerate(corrector_ids)
        ),
    )
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return NationalPaper(paper_id, code, copies, pages, corrector_ids)


def mark_everything(engine: Engine, paper_id: int, seed: int = 7) -> int:
    """Every dispatched copy marked by its corrector (per question, an appreciation), as at the close."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with engine.connect() as conn:
        assigned = conn.execute(
            select(LotCopy.copy_id, LotCopy.lot_id)
            .join(Copy, Copy.id == LotCopy.copy_id)
            .where(Copy.paper_id == paper_id)
        ).all()
        corrector_of_lot = dict(
            conn.exec_driver_sql(
                "SELECT id, corrector_id FROM correction_lot WHERE paper_id = %(p)s", {"p": paper_id}
            ).all()
        )
        questions = conn.execute(
            select(Question.id, Question.max_points)
            .where(Question.paper_id == paper_id)
            .order_by(Question.position)
        ).all()
    points = {
        cid: [Decimal(rng.randrange(0, int(top) * 2 + 1)) / 2 for _, top in questions] for cid, _ in assigned
    }
    copy_rows(
        engine,
        Marking,
        (
            {
                "copy_id": cid,
                "corrector_id": corrector_of_lot[lot],
                "version": 3,
                "status": "marked",
                "appreciation": "Travail sérieux.",
                "total": sum(points[cid]),
                "mark_20": sum(points[cid]),
                "marked_at": now,
                "updated_at": now,
            }
            for cid, lot in assigned
        ),
    )
    with engine.connect() as conn:
        marking_of = dict(
            conn.execute(
                select(Marking.copy_id, Marking.id)
                .join(Copy, Copy.id == Marking.copy_id)
                .where(Copy.paper_id == paper_id)
            ).all()
        )
    copy_rows(
        engine,
        QuestionMark,
        (
            {"marking_id": marking_of[cid], "question_id": qid, "points": points[cid][i]}
            for cid, _ in assigned
            for i, (qid, _) in enumerate(questions)
        ),
    )
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return len(assigned)
