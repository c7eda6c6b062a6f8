"""The harmonisation flag: it finds a planted harsh corrector and keeps its stated false-alarm rate.

Sessions are generated like testkit.worlds.coordination's marks (candidate level + question noise + corrector
bias); the many-session simulations call the statistics directly (no database: the test is
about the statistics), and one 30-corrector session goes through the whole service.
"""

from __future__ import annotations

import random

from correction_server.coordination import statistics
from correction_server.coordination.harmonisation import distributions, flag_sentence
from testkit.worlds.coordination import build_world

CORRECTORS = 30
# A real lot is 80-120 copies (DOMAIN.md: "120 copies to mark in two weeks").
COPIES = 100


def fake_session(rng: random.Random, harsh: dict[int, float], copies: int = COPIES) -> dict[int, list[float]]:
    """Marks out of 20 in half points: level N(11, 3.5) + marking noise + the corrector's bias."""
    out = {}
    for c in range(CORRECTORS):
        marks = []
        for _ in range(copies):
            value = rng.gauss(11, 3.5) + rng.gauss(0, 1.2) + harsh.get(c, 0.0)
            marks.append(max(0.0, min(20.0, round(value * 2) / 2)))
        out[c] = marks
    return out


def test_holm_matches_the_textbook_example() -> None:
    assert statistics.holm([0.01, 0.04, 0.03, 0.005]) == [0.03, 0.06, 0.06, 0.02]


def test_a_planted_harsh_corrector_is_flagged_in_almost_every_session() -> None:
    rng = random.Random(11)
    sessions, found, wrong = 40, 0, 0
    for s in range(sessions):
        result = statistics.compare_correctors(fake_session(rng, {7: -2.0}), permutations=2000, seed=s)
        flagged = {t.corrector_id for t in result.flagged}
        found += 7 in flagged
        wrong += len(flagged - {7})
    print(
        f"harsh corrector (-2 points, {COPIES} copies) flagged in {found}/{sessions} sessions; "
        f"{wrong} false flags"
    )
    assert found >= 0.85 * sessions
    assert wrong <= 3


def test_fair_correctors_are_not_flagged_more_often_than_the_stated_rate() -> None:
    """Stated on the page: when everyone marks alike, at most ALPHA (5 %) chance that anyone is flagged."""
    rng = random.Random(2024)
    sessions, with_a_flag, flags = 200, 0, 0
    for s in range(sessions):
        result = statistics.compare_correctors(fake_session(rng, {}, 40), permutations=2000, seed=1000 + s)
        with_a_flag += bool(result.flagged)
        flags += len(result.flagged)
    rate = with_a_flag / sessions
    print(
        f"fair sessions with a false flag: {with_a_flag}/{sessions} ({rate:.1%}); "
        f"per fair corrector: {flags}/{sessions * CORRECTORS}"
    )
    # 200 sessions at a true rate of 5 %: 10 expected, sd ~3; 17 is 2.3 sd above (a real excess fails).
    assert with_a_flag <= 17
    assert flags / (sessions * CORRECTORS) <= statistics.ALPHA / 10


def test_too_few_copies_are_not_tested_and_the_rest_still_are() -> None:
    marks = {1: [10.0] * 5, 2: [10.0, 11.0] * 20, 3: [9.0, 12.0] * 20}
    result = statistics.compare_correctors(marks, permutations=500)
    by_id = {t.corrector_id: t for t in result.tests}
    assert by_id[1].p_value is None and not by_id[1].flagged
    assert by_id[2].p_value is not None and result.tested == 2


def test_the_service_flags_the_harsh_corrector_of_a_generated_30_corrector_session(session_factory, tmp_path):
    world = build_world(
        session_factory,
        tmp_path,
        candidates=30 * COPIES,
        correctors=30,
        bias={12: -2.0},
        mark="direct",
        seed=5,
    )
    harsh_id = sorted(world.correctors.values())[12]
    with session_factory() as session:
        dist = distributions(session, world.paper_id, permutations=3000)
    flagged = {c.corrector_id for c in dist.flagged}
    assert harsh_id in flagged, [
        (c.name, round(c.test.difference, 2), c.test.adjusted_p) for c in dist.correctors
    ]
    # A fair corrector may be flagged by chance (at most 5 % of sessions): never more than one here.
    assert len(flagged - {harsh_id}) <= 1
    harsh = next(c for c in dist.correctors if c.corrector_id == harsh_id)
    assert harsh.test.difference < -1.0
    assert "below" in flag_sentence(harsh, dist.result.pool_mean)
    assert set(harsh.question_means) == set(world.question_ids)
