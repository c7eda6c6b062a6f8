"""The main job, as the README gives it: the whole demo from an empty folder."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

import massicot

SAMPLES = Path(massicot.__file__).parent / "samples"


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    folder = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "massicot", "demo", "--dir", str(folder), "--no-serve"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert "Audit log intact" in result.stdout
    with (folder / "office" / "marks.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with (SAMPLES / "candidates.csv").open(encoding="utf-8") as f:
        candidates = [row["registration"] for row in csv.DictReader(f)]
    # Every registered candidate reaches the jury, once, with a mark or AB.
    assert sorted(r["registration"] for r in rows) == sorted(candidates)
    assert all(r["mark"] for r in rows)
    for uai in ("0130040Y", "0130049H"):
        assert (folder / uai / "lot" / "manifest.json").is_file()


def test_demo_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    result = subprocess.run(
        [sys.executable, "-m", "massicot", "demo", "--dir", str(tmp_path), "--no-serve"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "not a demo folder" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"
