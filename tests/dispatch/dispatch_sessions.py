"""Generated exam sessions for the dispatch tests and bench/dispatch.py (plain data, no database)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from correction_server.dispatch import CopyToPlace, CorrectorSeat


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
        copies.append(CopyToPlace(f"K{i:07d}", centre_of_establishment[e], e))
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
