"""The demo's correctors at work: every dispatched copy marked through the marking service.

The same service the browser's autosave calls (`correction_server.marking.saving.save`), with its
rules: marks in the barème's step, AB/00 only where the centre recorded them, an appreciation
for every copy. Only the typing is simulated.
"""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select

from correction_server.db import make_engine, make_session_factory
from correction_server.marking.reading import load_scheme
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import Copy, CopyStatus, CorrectionLot, LotCopy

APPRECIATIONS = (
    "Bonne maîtrise des suites ; la rédaction des probabilités reste à préciser.",
    "Copie soignée, raisonnements justes, quelques erreurs de calcul.",
    "Des connaissances, mais les justifications manquent trop souvent.",
    "Travail sérieux ; la géométrie n'est qu'ébauchée.",
)


def _points(rng: random.Random, max_points: Decimal, step: Decimal) -> str:
    steps = int(max_points / step)
    # Most candidates get between a third and all of a question's points.
    taken = min(steps, max(0, round(rng.triangular(steps / 3, steps, steps * 0.7))))
    return str(step * taken)


def mark_every_copy(database_url: str, seed: int = 2024) -> int:
    """Mark every dispatched copy as its corrector would; returns how many were marked."""
    rng = random.Random(seed)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    marked = 0
    try:
        with factory() as session:
            rows = session.execute(
                select(LotCopy.copy_id, CorrectionLot.corrector_id, CorrectionLot.paper_id, Copy.status)
                .join(CorrectionLot, LotCopy.lot_id == CorrectionLot.id)
                .join(Copy, Copy.id == LotCopy.copy_id)
                .order_by(CorrectionLot.id, LotCopy.position)
            ).all()
            schemes = {paper_id: load_scheme(session, paper_id) for paper_id in {r.paper_id for r in rows}}
        for row in rows:
            request = _request(rng, row.status, schemes[row.paper_id])
            with factory() as session:
                save(session, row.corrector_id, row.copy_id, request)
            marked += 1
    finally:
        engine.dispose()
    return marked


def _request(rng: random.Random, status: CopyStatus, scheme) -> SaveRequest:
    if status == CopyStatus.ABSENT:
        return SaveRequest(version=0, special="AB", appreciation="Candidat absent.")
    if status == CopyStatus.BLANK:
        return SaveRequest(version=0, special="00", appreciation="Copie blanche.")
    marks = {q.id: _points(rng, q.max_points, q.step) for q in scheme.questions}
    return SaveRequest(version=0, marks=marks, appreciation=rng.choice(APPRECIATIONS))
