"""Does a corrector mark differently from the others, beyond what chance explains?

Why a permutation test works here: dispatch shuffles the copies of every centre and
établissement across all the correctors of a paper, so each corrector's lot is (close to) a
random sample of the paper's copies. If every corrector marked alike, a corrector's average
would differ from the pool's average only because of which copies happened to land in his lot.
A permutation test measures exactly that: it deals the paper's marks out again at random, many
times, into lots of the same sizes, and counts how often a lot's average lands at least as far
from the pool's average as the corrector's real one did. That share is the p-value. No bell
curve is assumed, and the same marks are reused, so ties, half points and the 0–20 limits are
all taken into account.

Thirty correctors compared at once means thirty chances of a false alarm, so the p-values go
through Holm's correction: with `alpha` = 0.05, in a session where every corrector marks alike
the chance that anyone at all is flagged is at most 5 % (family-wise error rate), whatever the
dependence between the tests.

Caveat stated on the page: the établissement rule means a lot is not perfectly random (a
corrector never gets his own students); if établissements differ much in level, that alone can
move a lot's average a little. A flag is a reason to look at copies, never a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

ALPHA = 0.05
PERMUTATIONS = 5000
# Below this many marked copies an average says too little to judge anyone.
MIN_COPIES = 10
_CHUNK = 250


@dataclass(frozen=True)
class CorrectorTest:
    corrector_id: int
    n: int
    mean: float
    sd: float
    difference: float  # his mean minus the pool's mean, in points out of 20
    p_value: float | None  # None: too few copies to test
    adjusted_p: float | None  # after Holm's correction
    flagged: bool
    # Where a fair corrector's average falls by chance with a lot of this size (display only).
    band_low: float
    band_high: float


@dataclass(frozen=True)
class Harmonisation:
    pool_n: int
    pool_mean: float
    pool_sd: float
    alpha: float
    permutations: int
    tests: list[CorrectorTest]

    @property
    def flagged(self) -> list[CorrectorTest]:
        return [t for t in self.tests if t.flagged]

    @property
    def tested(self) -> int:
        return sum(1 for t in self.tests if t.p_value is not None)


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def compare_correctors(
    marks_by_corrector: dict[int, list[float]],
    *,
    alpha: float = ALPHA,
    permutations: int = PERMUTATIONS,
    seed: int = 20240,
    min_copies: int = MIN_COPIES,
) -> Harmonisation:
    """Permutation test of each corrector's mean mark against the pool, Holm-corrected.

    `marks_by_corrector`: marks out of 20 of the copies each corrector marked (AB and blank
    copies left out: their mark does not depend on the corrector). Deterministic given `seed`.
    """
    ids = sorted(marks_by_corrector)
    sizes = np.array([len(marks_by_corrector[i]) for i in ids], dtype=np.int64)
    pool = (
        np.concatenate([np.asarray(marks_by_corrector[i], dtype=float) for i in ids]) if ids else np.array([])
    )
    n_pool = pool.size
    if n_pool == 0:
        return Harmonisation(0, math.nan, math.nan, alpha, permutations, [])
    pool_mean = float(pool.mean())
    pool_sd = float(pool.std(ddof=1)) if n_pool > 1 else 0.0
    testable = [k for k, n in enumerate(sizes) if min_copies <= n < n_pool]
    exceed = _permutation_exceedances(pool, sizes, pool_mean, permutations, seed) if testable else None
    p_values = {k: (1 + int(exceed[k])) / (1 + permutations) for k in testable} if exceed is not None else {}
    adjusted = dict(zip(testable, holm([p_values[k] for k in testable]), strict=True))
    # The band is the strictest Holm threshold (alpha / m), two-sided, from the normal shape of
    # a random lot's mean (finite-population corrected); the flag itself is the permutation test.
    m = max(len(testable), 1)
    z = NormalDist().inv_cdf(1 - alpha / (2 * m))
    tests = []
    offset = 0
    for k, corrector_id in enumerate(ids):
        n = int(sizes[k])
        own = pool[offset : offset + n]
        offset += n
        spread = pool_sd / math.sqrt(n) * math.sqrt((n_pool - n) / (n_pool - 1)) if n and n_pool > 1 else 0.0
        mean = float(own.mean()) if n else math.nan
        tests.append(
            CorrectorTest(
                corrector_id=corrector_id,
                n=n,
                mean=mean,
                sd=float(own.std(ddof=1)) if n > 1 else 0.0,
                difference=mean - pool_mean,
                p_value=p_values.get(k),
                adjusted_p=adjusted.get(k),
                flagged=k in adjusted and adjusted[k] <= alpha,
                band_low=pool_mean - z * spread,
                band_high=pool_mean + z * spread,
            )
        )
    return Harmonisation(n_pool, pool_mean, pool_sd, alpha, permutations, tests)


def _permutation_exceedances(
    pool: np.ndarray, sizes: np.ndarray, pool_mean: float, permutations: int, seed: int
) -> np.ndarray:
    """Per corrector: in how many random deals his lot's mean was at least as far from the pool's.

    One random deal shuffles the whole pool and cuts it into lots of the real sizes, so every
    corrector is tested on the same deals (cheap: one shuffle serves thirty correctors).
    """
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    nonempty = sizes > 0
    observed = np.add.reduceat(pool, starts[nonempty]) / sizes[nonempty]
    # A hair of tolerance so that a deal equal to the observed lot counts as "as far".
    observed_gap = np.abs(observed - pool_mean) - 1e-9
    counts = np.zeros(int(nonempty.sum()), dtype=np.int64)
    done = 0
    while done < permutations:
        rows = min(_CHUNK, permutations - done)
        deals = rng.permuted(np.broadcast_to(pool, (rows, pool.size)), axis=1)
        means = np.add.reduceat(deals, starts[nonempty], axis=1) / sizes[nonempty]
        counts += (np.abs(means - pool_mean) >= observed_gap).sum(axis=0)
        done += rows
    out = np.zeros(sizes.size, dtype=np.int64)
    out[nonempty] = counts
    return out
