"""The station's file readers under mutated real scans: 0 crashes, 0 hangs, refusals in plain words.

Bounded for CI (MASSICOT_FUZZ_READS mutations per format, default 150, and a time budget);
bench/fuzz_readers.py runs the same for longer.
"""

from __future__ import annotations

import os
from pathlib import Path

from testkit.fuzz_readers import fuzz, make_seeds, plain_words

RUNS = int(os.environ.get("MASSICOT_FUZZ_READS", "150"))


def test_mutated_scans_never_crash_or_hang_the_readers(tmp_path: Path) -> None:
    seeds = make_seeds(tmp_path / "seeds")
    assert set(seeds) == {"pdf", "tiff", "jpeg", "png"}
    report = fuzz(seeds, tmp_path / "fuzz", RUNS, seed=19, hang_seconds=30, budget_seconds=240)
    print(
        f"\nreader fuzz: {dict(report.executions)} executions, {report.pages} pages read, "
        f"{report.refusals} refusals, {report.seconds:.0f} s"
    )
    assert report.total >= 4 * min(RUNS, 10)
    assert not report.crashes, report.crashes[:5]
    assert not report.hangs, report.hangs
    assert not report.bad_words, report.bad_words[:5]
    assert report.refusals > 0  # the mutations did reach the refusals


def test_the_plain_words_check_can_tell() -> None:
    assert plain_words("the file is damaged: scan the pages again")
    assert not plain_words('Traceback (most recent call last):\n  File "x.py"')
    assert not plain_words("")
