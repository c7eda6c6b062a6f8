"""Snapshots of costly figures (massicot_core.snapshots): kept only when costly, for a while in
proportion, one caller computing again while the others get the previous value; a paper of usual
size is always shown fresh."""

from __future__ import annotations

import threading

from massicot_core.snapshots import Snapshots, keep_when_costly


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_costly_figure_is_kept_then_computed_again_once_stale():
    clock = Clock()
    snapshots: Snapshots[int] = Snapshots(clock)
    calls = []

    def compute() -> int:
        calls.append(1)
        clock.now += 1.0  # one second of database work
        return len(calls)

    def keep(value: int, took: float) -> float:
        return keep_when_costly(500_000, took)

    assert snapshots.get("U3", compute, keep) == 1
    clock.now += 19.0
    assert snapshots.get("U3", compute, keep) == 1  # 20 s kept for a 1 s computation
    clock.now += 1.5
    assert snapshots.get("U3", compute, keep) == 2
    assert snapshots.get("U4", compute, keep) == 3  # one entry per key


def test_a_cheap_or_small_figure_is_never_kept():
    assert keep_when_costly(10_000, 5.0) == 0.0
    assert keep_when_costly(500_000, 0.05) == 0.0
    assert keep_when_costly(500_000, 10.0) == 30.0
    snapshots: Snapshots[int] = Snapshots()
    values = iter(range(10))
    assert [snapshots.get("k", lambda: next(values), lambda v, t: 0.0) for _ in range(3)] == [0, 1, 2]


def test_while_one_caller_computes_again_the_others_get_the_previous_value():
    clock = Clock()
    snapshots: Snapshots[str] = Snapshots(clock)
    snapshots.get("U3", lambda: "old", lambda v, t: 10.0)
    clock.now += 11.0
    inside, release = threading.Event(), threading.Event()

    def slow() -> str:
        inside.set()
        release.wait(10)
        return "new"

    result: list[str] = []
    computing = threading.Thread(target=lambda: result.append(snapshots.get("U3", slow, lambda v, t: 10.0)))
    computing.start()
    assert inside.wait(10)
    assert snapshots.get("U3", lambda: "a second computation", lambda v, t: 10.0) == "old"
    release.set()
    computing.join(10)
    assert result == ["new"]
    assert snapshots.get("U3", lambda: "not yet", lambda v, t: 10.0) == "new"


def test_a_paper_of_usual_size_shows_every_save_at_once(session_factory, tmp_path):
    from correction_server.coordination.progress import shown_progress
    from correction_server.marking.saving import SaveRequest, save
    from testkit.worlds.coordination import build_world

    world = build_world(session_factory, tmp_path, leave_unmarked=4)
    with session_factory() as session:
        before = shown_progress(session, world.paper_id).total.draft
    first = min(world.lots)
    with session_factory() as session:
        save(session, first, world.lots[first][-1], SaveRequest(version=0, appreciation="Début."))
    with session_factory() as session:
        assert shown_progress(session, world.paper_id).total.draft == before + 1


def test_a_stale_snapshot_is_computed_again_in_the_background_while_callers_get_the_previous():
    clock = Clock()
    snapshots: Snapshots[str] = Snapshots(clock)
    snapshots.get("U3", lambda: "old", lambda v, t: 10.0)
    clock.now += 11.0
    release, done = threading.Event(), threading.Event()

    def refresh() -> str:
        release.wait(10)
        done.set()
        return "new"

    assert snapshots.get("U3", lambda: "in the request", lambda v, t: 10.0, refresh=refresh) == "old"
    assert snapshots.get("U3", lambda: "in the request", lambda v, t: 10.0, refresh=refresh) == "old"
    release.set()
    assert done.wait(10)
    for _ in range(100):  # the background thread stores it just after computing it
        if snapshots.get("U3", lambda: "in the request", lambda v, t: 10.0) == "new":
            break
        threading.Event().wait(0.01)
    assert snapshots.get("U3", lambda: "in the request", lambda v, t: 10.0) == "new"
