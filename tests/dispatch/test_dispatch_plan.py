"""The dispatch algorithm on plain data: every constraint checked on the result."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from correction_server.dispatch.planning import (
    CopyToPlace,
    CorrectorSeat,
    DispatchImpossible,
    plan_dispatch,
    proportional_targets,
)
from testkit.worlds.dispatch import GeneratedSession, generate_session


def check_plan(
    copies: list[CopyToPlace], seats: list[CorrectorSeat], plan, proportional: bool = True
) -> None:
    """Assert every dispatch rule on a plan."""
    by_id = {c.copy_id: c for c in copies}
    seat = {s.user_id: s for s in seats}
    placed = [cid for ids in plan.assignments.values() for cid in ids]
    assert Counter(placed) == Counter(list(by_id)), "every copy exactly once"
    targets = proportional_targets([s for s in seats if s.capacity > 0], len(copies))
    for user_id, ids in plan.assignments.items():
        s = seat[user_id]
        assert ids == sorted(ids), "slip order: copy ids increasing"
        own = [
            cid
            for cid in ids
            if s.establishment_id is not None and by_id[cid].establishment_id == s.establishment_id
        ]
        assert not own, f"{s.name} got copies of his own établissement: {own[:5]}"
        assert s.already + len(ids) <= s.capacity, f"{s.name} above his declared capacity"
        if proportional:
            assert s.already + len(ids) == targets[user_id], f"{s.name} not at his proportional share"


def test_ten_thousand_copies_sixty_correctors_meet_every_rule() -> None:
    g = generate_session(10_000, 60)
    plan = plan_dispatch(g.copies, g.seats, seed=2026, establishment_names=g.establishment_names)
    check_plan(g.copies, g.seats, plan, proportional=not plan.notes)
    # Shuffled across centres: every lot mixes many centres, none is one centre's pile.
    centre = {c.copy_id: c.centre for c in g.copies}
    total_centres = len(set(centre.values()))
    for ids in plan.assignments.values():
        lot_centres = Counter(centre[c] for c in ids)
        assert len(lot_centres) >= min(total_centres, len(ids)) * 0.5
        assert max(lot_centres.values()) <= 0.25 * len(ids)


def test_constrained_session_relaxes_proportions_but_never_capacity() -> None:
    # Few établissements, big ones: the correctors of the biggest cannot take their full share
    # of the others' copies, so others take more (never above capacity).
    g = generate_session(3_000, 12, n_centres=4, n_establishments=4, seed=3)
    seats = [
        CorrectorSeat(s.user_id, s.name, 1 if i < 6 else s.establishment_id, s.capacity + 60)
        for i, s in enumerate(g.seats)
    ]
    plan = plan_dispatch(g.copies, seats, seed=1, establishment_names=g.establishment_names)
    check_plan(g.copies, seats, plan, proportional=False)


def test_same_seed_same_lots_other_seed_other_lots() -> None:
    g = generate_session(2_000, 15, seed=11)
    first = plan_dispatch(g.copies, g.seats, seed=99)
    again = plan_dispatch(list(reversed(g.copies)), list(reversed(g.seats)), seed=99)
    other = plan_dispatch(g.copies, g.seats, seed=100)
    assert first.assignments == again.assignments
    assert first.assignments != other.assignments
    assert first.seed == 99


def test_earlier_holdings_count_toward_the_share() -> None:
    copies = [CopyToPlace(f"K{i:04d}", "C1", None) for i in range(100)]
    seats = [CorrectorSeat(1, "A", None, 100, already=50), CorrectorSeat(2, "B", None, 100, already=0)]
    plan = plan_dispatch(copies, seats, seed=1)
    # 150 in all, equal capacities: 75 each, so A gets 25 more and B 75.
    assert len(plan.assignments[1]) == 25 and len(plan.assignments[2]) == 75


def test_only_corrector_from_the_candidates_establishment_is_explained() -> None:
    copies = [CopyToPlace(f"K{i:04d}", "0130040Y", 7) for i in range(30)]
    seats = [CorrectorSeat(1, "Mme Martin", 7, 100)]
    with pytest.raises(DispatchImpossible) as caught:
        plan_dispatch(copies, seats, seed=1, establishment_names={7: "Lycée Thiers (0130007X)"})
    (reason,) = caught.value.reasons
    assert "30 copies" in reason and "Lycée Thiers (0130007X)" in reason
    assert "30 from centre 0130040Y" in reason and "Mme Martin" in reason
    assert "no possible corrector" in reason
    assert "Nothing was changed" in str(caught.value)


def test_full_eligible_correctors_are_explained() -> None:
    copies = [CopyToPlace(f"A{i:03d}", "C1", 1) for i in range(50)] + [
        CopyToPlace(f"B{i:03d}", "C2", 2) for i in range(10)
    ]
    seats = [CorrectorSeat(1, "From A", 1, 100), CorrectorSeat(2, "From B", 2, 20)]
    with pytest.raises(DispatchImpossible) as caught:
        plan_dispatch(copies, seats, seed=1, establishment_names={1: "Lycée A", 2: "Lycée B"})
    (reason,) = caught.value.reasons
    assert reason.startswith("30 copies of candidates from Lycée A")
    assert "From B" in reason and "are full" in reason and "20 copies" in reason


def test_not_enough_capacity_or_no_corrector_is_said() -> None:
    copies = [CopyToPlace(f"K{i:03d}", "C1", None) for i in range(10)]
    with pytest.raises(DispatchImpossible, match="no corrector"):
        plan_dispatch(copies, [], seed=1)
    with pytest.raises(DispatchImpossible, match="remaining declared capacity is 8"):
        plan_dispatch(copies, [CorrectorSeat(1, "A", None, 8)], seed=1)


def _hall_violated(copies: list[CopyToPlace], seats: list[CorrectorSeat]) -> bool:
    """Independent feasibility check (Hall's condition on établissement groups)."""
    groups = Counter(c.establishment_id for c in copies)
    keys = list(groups)
    for r in range(1, len(keys) + 1):
        for subset in itertools.combinations(keys, r):
            need = sum(groups[g] for g in subset)
            reachable = [
                s
                for s in seats
                if any(g is None or s.establishment_id != g for g in subset) and s.capacity > 0
            ]
            if need > sum(s.capacity - s.already for s in reachable):
                return True
    return False


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(st.integers(0, 25), min_size=1, max_size=5),
    seat_specs=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 30)), min_size=1, max_size=5),
    seed=st.integers(0, 1000),
)
def test_places_everything_whenever_it_is_possible(groups, seat_specs, seed) -> None:
    copies = [
        CopyToPlace(f"G{g}-{i:03d}", f"C{g % 2}", g or None) for g, n in enumerate(groups) for i in range(n)
    ]
    seats = [CorrectorSeat(k + 1, f"S{k}", est or None, cap) for k, (est, cap) in enumerate(seat_specs)]
    try:
        plan = plan_dispatch(copies, seats, seed=seed)
    except DispatchImpossible as exc:
        assert exc.reasons
        assert _hall_violated(copies, seats), "refused although a dispatch exists"
        return
    check_plan(copies, seats, plan, proportional=not plan.notes)


def test_generator_is_what_the_benchmark_uses() -> None:
    g = generate_session(10_000, 60)
    assert isinstance(g, GeneratedSession)
    assert len(g.copies) == 10_000 and len(g.seats) == 60
    assert sum(s.capacity for s in g.seats) >= 10_000
