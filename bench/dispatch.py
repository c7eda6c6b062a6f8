"""How long dispatch takes on a generated session of 10,000 copies and 60 correctors.

Prints the time of the algorithm alone (plan_dispatch, plain data) and of the whole
`dispatch_paper` on a migrated SQLite database (read copies, plan, write lots), against a
baseline measured in the same run: a plain shuffle dealt round-robin, with no constraint.

    .venv/bin/python bench/dispatch.py [--copies 10000] [--correctors 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time

from correction_server.db import make_engine, make_session_factory
from correction_server.dispatch.planning import dispatch_paper, plan_dispatch
from correction_server.migrate import upgrade_database
from correction_server.models import Paper
from testkit.worlds.dispatch import generate_session, populate


def baseline(copy_ids: list[str], n: int, seed: int) -> dict[int, list[str]]:
    ids = list(copy_ids)
    random.Random(seed).shuffle(ids)
    return {k: sorted(ids[k::n]) for k in range(n)}


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=10_000)
    parser.add_argument("--correctors", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    g = generate_session(args.copies, args.correctors)
    ids = [c.copy_id for c in g.copies]
    base_s = best_of(args.repeat, lambda: baseline(ids, args.correctors, 1))
    plan_s = best_of(args.repeat, lambda: plan_dispatch(g.copies, g.seats, 1, g.establishment_names))
    plans = [plan_dispatch(g.copies, g.seats, s).assignments for s in (1, 2, 3)]
    print(
        f"plan_dispatch: best of {args.repeat}: {plan_s * 1000:.0f} ms "
        f"(3 seeds give {len(set(map(str, plans)))} different plans)"
    )

    db_times = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.sqlite3"
            upgrade_database(url)
            engine = make_engine(url)
            factory = make_session_factory(engine)
            paper_id = populate(factory, g)
            with factory() as session:
                start = time.perf_counter()
                outcome = dispatch_paper(session, session.get(Paper, paper_id), seed=1)
                db_times.append(time.perf_counter() - start)
            engine.dispose()
            assert outcome.copies_dispatched == args.copies
    db_s = statistics.median(db_times)
    print(
        f"dispatch_paper on SQLite (read, plan, write {args.copies} lot lines): median {db_s * 1000:.0f} ms"
    )
    print(f"baseline shuffle + round-robin, no constraint: {base_s * 1000:.1f} ms")
    print(
        f"copies={args.copies} correctors={args.correctors} plan_ms={plan_s * 1000:.0f} "
        f"db_ms={db_s * 1000:.0f} baseline_ms={base_s * 1000:.1f} "
        f"ratio_plan_vs_baseline={plan_s / base_s:.1f}"
    )


if __name__ == "__main__":
    main()
