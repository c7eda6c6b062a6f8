"""The station's code path fed by the replay test double with the sample generator's pages.

Checks the copies against the generator's truth, against `massicot scan import` of the same
files, and that a run killed (SIGKILL) at 20+ random points ends with the same report as an
uninterrupted run, every page there exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from scanner.feeder import FeedEnd
from scanner.lot import Lot
from scanner.report import build_view, report_json
from scanner.station import open_lot, scan_session
from testkit.replay import ReplayFault, ReplayFeeder
from testkit.replay_station import FAULTS, make_feeder, secretary_for
from testkit.station import Secretary, journal_entries, report_of, run_cli

pytestmark = pytest.mark.slow
KILL_POINTS = 24
SEED = 20261125


def normalised(report: dict) -> dict:
    """A report with the ids of recorded copies (absent: derived from the lot's own secret) named
    after their candidate, so two lots of the same pile compare equal."""
    recorded = {c["copy"]: f"recorded:{c['candidate']}" for c in report["copies"] if not c["pages"]}
    text = json.dumps(report, sort_keys=True)
    for copy, name in recorded.items():
        text = text.replace(copy, name)
    result = json.loads(text)
    for key in ("copies", "anomalies", "unassigned"):
        result[key] = sorted(result[key], key=lambda item: json.dumps(item, sort_keys=True))
    return result


def _expected_refed(truth, faults) -> list[tuple[str, str]]:
    """From the generator's truth: the sheets met right after a fault that repeat a page met just before."""

    def identity(position):
        page = truth.pages[position]
        return (page.copy_id, page.page) if page.page is not None else None

    deliveries: list[tuple[int, int] | str] = []  # (position, pass), or "fault"
    passes: dict[int, int] = {}
    for position in range(len(truth.pages)):
        fault = next((f for f in faults if f.before_sheet == position), None)
        if fault is not None and fault.sheet_read:
            deliveries.append((position, passes.setdefault(position, 0)))
            passes[position] += 1
        if fault is not None:
            deliveries.append("fault")
        deliveries.append((position, passes.get(position, 0)))
    pairs = []
    for index, item in enumerate(deliveries):
        if item != "fault":
            continue
        before = [d for d in deliveries[max(0, index - 2) : index] if d != "fault"]
        for after in deliveries[index + 1 : index + 3]:
            if after == "fault" or identity(after[0]) is None:
                continue
            match = next((b for b in reversed(before) if identity(b[0]) == identity(after[0])), None)
            if match is not None:
                name = lambda d: f"jpeg/{d[0] + 1:04d}.jpg#{d[1]}"  # noqa: E731
                pairs.append((name(after), name(match)))
    return pairs


def _expected_copies(truth) -> dict[str, list[int]]:
    """Copy → page numbers the lot must place in it, from what the generator really did."""
    expected: dict[str, set[int]] = {}
    for page in truth.pages:
        if page.paper == truth.paper and page.page is not None:
            expected.setdefault(page.copy_id, set()).add(page.page)
    return {copy: sorted(numbers) for copy, numbers in expected.items()}


def test_replay_pile_with_faults_ends_with_the_right_copies(sample_pile, tmp_path):
    feeder = make_feeder(sample_pile.jpeg)
    secretary = Secretary(auto=secretary_for(feeder))
    lot = open_lot(tmp_path / "lot", "U3", sample_pile.roll)
    result, view = scan_session(lot, feeder, secretary)

    ends = [f.end for f in secretary.feeds]
    assert ends.count(FeedEnd.JAMMED) == 2 and ends.count(FeedEnd.COVER_OPEN) == 1
    assert any("remove the jammed sheet, put it back on top of the pile" in q for q in secretary.questions)
    # the sheet read whole before the first jam came twice: recognised; so is any sheet of the
    # pile that repeats a page read just before a fault (it looks the same to the station)
    assert result.refed[0] == ("jpeg/0006.jpg#1", "jpeg/0006.jpg#0")
    assert result.refed == _expected_refed(sample_pile.truth, FAULTS)
    assert any("right after the fault" in note for note in secretary.notes)
    assert not any(
        "check the paper code" in note for note in secretary.notes
    )  # a foreign copy is not a wrong pile

    report = report_json(view)
    placed = {
        c["copy"]: sorted(p["number"] for p in c["pages"] if p["number"])
        for c in report["copies"]
        if c["pages"]
    }
    assert placed == _expected_copies(sample_pile.truth)
    by_copy = {c.copy_id: c for c in sample_pile.truth.copies}
    for copy in report["copies"]:
        truth = by_copy.get(copy["copy"])
        if truth is not None and truth.label == "ok":
            assert copy["candidate"] == truth.candidate
        for page in copy["pages"]:  # the generator's upside-down sheets come out turned
            position = int(page["source"].split("/")[1].split(".")[0]) - 1
            assert page["rotation"] == sample_pile.truth.pages[position].rotation
    # every sheet delivered is in the report once; the second pass of the re-fed one as a duplicate
    sources = Counter(u["source"] for u in report["unassigned"])
    sources.update(p["source"] for c in report["copies"] for p in c["pages"])
    received = [e["source"] for e in journal_entries(tmp_path / "lot", "received")]
    assert sorted(sources) == sorted(received) and max(sources.values()) == 1
    assert len(received) == len(sample_pile.truth.pages) + 1
    duplicates = [a["source"] for a in report["anomalies"] if a["kind"] == "duplicate_page"]
    assert {second for second, _ in result.refed} <= set(duplicates)


def test_replay_gives_the_same_lot_as_importing_the_same_files(sample_pile, tmp_path):
    """Same pipeline: without faults the station's report is `scan import`'s report."""
    imported = tmp_path / "imported"
    done = run_cli(
        "scan",
        "import",
        str(sample_pile.jpeg),
        "--paper",
        "U3",
        "--roll",
        str(sample_pile.roll),
        "--lot",
        str(imported),
        "--quiet",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr
    feeder = ReplayFeeder.from_folder(sample_pile.jpeg, capacity=10)
    lot = open_lot(tmp_path / "scanned", "U3", sample_pile.roll)
    _, view = scan_session(lot, feeder, Secretary(auto=secretary_for(feeder)))
    assert normalised(report_json(view)) == normalised(report_of(imported))


def test_a_jam_that_ate_a_half_read_sheet_delivers_it_once_in_the_next_feed(sample_pile, tmp_path):
    feeder = ReplayFeeder.from_folder(
        sample_pile.jpeg, faults=[ReplayFault(before_sheet=2, end=FeedEnd.JAMMED)]
    )
    secretary = Secretary(auto=secretary_for(feeder))
    lot = open_lot(tmp_path / "lot", "U3", sample_pile.roll)
    result, _ = scan_session(lot, feeder, secretary)
    assert secretary.feeds[0].end is FeedEnd.JAMMED and secretary.feeds[0].pages == 2
    received = [e["source"] for e in journal_entries(tmp_path / "lot", "received")]
    assert received.count("jpeg/0003.jpg#0") == 1 and received[2] == "jpeg/0003.jpg#0"
    assert result.refed == []


def _run(pile, lot: Path, timeout: float = 300) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "testkit.replay_station", str(pile.jpeg), str(pile.roll), str(lot)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "REPLAY_SECONDS_PER_PAGE": "0.08"},
    )


def test_killed_at_random_points_the_station_resumes_to_the_same_report(sample_pile, tmp_path):
    reference = tmp_path / "reference"
    started = time.monotonic()
    whole = _run(sample_pile, reference)
    assert whole.wait(timeout=300) == 0, whole.stderr.read().decode()
    duration = time.monotonic() - started
    expected = normalised(report_of(reference))

    rng = random.Random(SEED)
    lot = tmp_path / "killed"
    kills = 0
    for _ in range(KILL_POINTS):
        process = _run(sample_pile, lot)
        # a rerun skips the analysis of pages already in the lot: it is shorter than the first run
        time.sleep(rng.uniform(0.05, 0.7 * duration))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
    assert kills >= 20, f"only {kills} runs were still going when killed"
    final = _run(sample_pile, lot)
    assert final.wait(timeout=300) == 0, final.stderr.read().decode()

    received = journal_entries(lot, "received")
    keys = Counter(e["key"] for e in received)
    assert max(keys.values()) == 1, "a page was received twice"
    assert sorted(e["source"] for e in received) == sorted(
        e["source"] for e in journal_entries(reference, "received")
    )
    assert normalised(report_of(lot)) == expected
    state = Lot.open(lot).state()
    assert all(record.analysis is not None for record in state.pages.values())
    assert build_view(state).blocking() == []


def test_a_pile_of_another_paper_is_said_at_once(sample_pile, tmp_path):
    """--paper U4 for a pile of U3: the station says so after a few pages and keeps everything."""
    feeder = ReplayFeeder.from_folder(sample_pile.jpeg)
    secretary = Secretary(auto=secretary_for(feeder))
    lot = open_lot(tmp_path / "lot", "U4", sample_pile.roll)
    _, view = scan_session(lot, feeder, secretary)
    warnings = [n for n in secretary.notes if "not U4" in n]
    assert len(warnings) == 1 and "of paper U3, not U4: check the paper code" in warnings[0]
    report = report_json(view)
    assert len(journal_entries(tmp_path / "lot", "received")) == len(sample_pile.truth.pages)
    assert {a["kind"] for a in report["anomalies"]} >= {"foreign_page"}
