"""The station's file readers under mutated real scans, for longer than CI runs it.

    python bench/fuzz_readers.py [RUNS_PER_FORMAT] [SEED]

Prints executions per format, pages read, refusals, crashes and hangs (the files that made
them are kept under bench/out/fuzz/), and executions per second.
"""

from __future__ import annotations

import sys
from pathlib import Path

from testkit.fuzz_readers import fuzz, make_seeds


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    out = Path(__file__).resolve().parent / "out" / "fuzz"
    seeds = make_seeds(out / "seeds")
    report = fuzz(seeds, out / "runs", runs, seed=seed)
    print(
        f"executions: {dict(report.executions)} ({report.total} in {report.seconds:.0f} s, "
        f"{report.total / max(report.seconds, 1e-9):.1f}/s)"
    )
    print(f"pages read: {report.pages}; refusals: {report.refusals}")
    print(
        f"crashes: {len(report.crashes)}; hangs: {len(report.hangs)}; refusals not in plain words: "
        f"{len(report.bad_words)}"
    )
    for line in report.crashes[:10] + report.hangs[:10] + report.bad_words[:10]:
        print("  ", line)
    return 1 if report.crashes or report.hangs or report.bad_words else 0


if __name__ == "__main__":
    sys.exit(main())
