"""kill -9 in the middle of `massicot scan import`, then the same command again: nothing lost.

The import runs as a real process on the sample generator's scans; it is killed (SIGKILL, the
whole process group, workers included) once the journal holds k lines, for several k, and at
random instants; the rerun's report must equal the report of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from massicot_core.roll import read_roll
from scanner.lot import Lot
from scanner.report import build_view, report_json
from testkit.lot import MASSICOT, PAPER, write_roll
from testkit.samples.defects import DefectPlan
from testkit.samples.session import generate_session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kill")
    write_roll(root / "roll.csv", [(f"CAND{i:03d}", i not in (3, 7)) for i in range(1, 11)])
    generate_session(
        root / "scans",
        PAPER,
        read_roll(root / "roll.csv"),
        dpi=200,
        seed=3,
        defects=DefectPlan.all(),
        formats=("pdf", "jpeg"),
    )
    # One lot made beforehand and copied for every run: the ids of copies recorded without a
    # booklet (absent candidates) are keyed by the lot's own secret.
    Lot.open_or_create(root / "empty-lot", paper=PAPER, centre="0130040Y", roll=read_roll(root / "roll.csv"))
    return root


def import_command(sample: Path, lot: Path, source: str, workers: int) -> list[str]:
    inputs = [str(sample / "scans" / "scan.pdf")] if source == "pdf" else [str(sample / "scans" / "jpeg")]
    return [
        MASSICOT,
        "scan",
        "import",
        *inputs,
        "--paper",
        PAPER,
        "--roll",
        str(sample / "roll.csv"),
        "--lot",
        str(lot),
        "--workers",
        str(workers),
        "--quiet",
    ]


def fresh_lot(sample: Path, name: str) -> Path:
    lot = sample / name
    shutil.rmtree(lot, ignore_errors=True)
    shutil.copytree(sample / "empty-lot", lot)
    return lot


def report(lot: Path) -> dict:
    return report_json(build_view(Lot.open(lot).state()))


def journal_lines(lot: Path) -> int:
    try:
        return (lot / "journal.jsonl").read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_when(command: list[str], lot: Path, *, lines: int | None = None, after: float | None = None) -> bool:
    """Start the import, SIGKILL its process group at the moment asked; True if it was killed."""
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    started = time.monotonic()
    try:
        while process.poll() is None:
            due = lines is not None and journal_lines(lot) >= lines
            due = due or (after is not None and time.monotonic() - started >= after)
            if due:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.002)
        return False
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize(("source", "workers"), [("pdf", 1), ("jpeg", 2)])
def test_killed_import_resumes_to_the_same_report(sample, source, workers):
    reference = fresh_lot(sample, f"reference-{source}")
    subprocess.run(import_command(sample, reference, source, workers), check=True, capture_output=True)
    expected = report(reference)
    total = journal_lines(reference)
    assert total > 60 and expected["copies"]

    rng = random.Random(source)
    points = sorted({1, 4, total // 3, (2 * total) // 3, total - 2})
    killed = 0
    for k in points:
        lot = fresh_lot(sample, f"killed-{source}-{k}")
        killed += kill_when(import_command(sample, lot, source, workers), lot, lines=k)
        subprocess.run(import_command(sample, lot, source, workers), check=True, capture_output=True)
        assert report(lot) == expected, f"killed after {k} journal lines"
        assert journal_lines(lot) >= total  # every step was done, some twice at most
        shutil.rmtree(lot)
    for _ in range(2):  # at random instants too, twice in a row before the final run
        lot = fresh_lot(sample, f"killed-{source}-random")
        killed += kill_when(import_command(sample, lot, source, workers), lot, after=rng.uniform(0.6, 3.0))
        killed += kill_when(import_command(sample, lot, source, workers), lot, after=rng.uniform(0.6, 2.0))
        subprocess.run(import_command(sample, lot, source, workers), check=True, capture_output=True)
        assert report(lot) == expected
        shutil.rmtree(lot)
    assert killed >= len(points)  # the kills really happened mid-run


def test_every_page_received_exactly_once_after_kills(sample):
    lot = fresh_lot(sample, "exactly-once")
    command = import_command(sample, lot, "pdf", 1)
    for k in (7, 31, 64):
        kill_when(command, lot, lines=k)
    subprocess.run(command, check=True, capture_output=True)
    entries = [json.loads(line) for line in (lot / "journal.jsonl").read_text().splitlines()]
    received = [e["key"] for e in entries if e["t"] == "received"]
    truth = json.loads((sample / "scans" / "truth.json").read_text())
    assert len(received) == len(set(received)) == len(truth["pages"])
    analysed = {e["key"] for e in entries if e["t"] == "analysed"}
    assert analysed == set(received)
