"""Fixtures for the scan station's tests: the real SANE test device and a sample pile.

The SANE `test` backend is the real virtual scanner of sane-utils. It must be enabled in
/etc/sane.d/dll.conf (.ci/run does it); a machine without `scanimage` skips those tests,
except in CI (CI=true) where that is a failure.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from testkit.missing import missing
from testkit.station import ROLL, write_roll


@pytest.fixture(scope="session")
def sane_test_device() -> str:
    """The name of SANE's test device, after checking scanimage sees it."""
    if shutil.which("scanimage") is None:
        missing("scanimage (sane-utils) is not installed")
    listed = subprocess.run(["scanimage", "-L"], capture_output=True, text=True, timeout=60).stdout
    if "test:0" not in listed:
        pytest.fail(
            "SANE's test backend is not enabled: `echo test >> /etc/sane.d/dll.conf` (.ci/run does it)"
        )
    return "test:0"


@dataclass
class Pile:
    folder: Path  # the sample generator's output
    jpeg: Path  # its page images in scan order
    roll: Path
    truth: object  # testkit.samples.truth.Truth


@pytest.fixture(scope="session")
def sample_pile(tmp_path_factory) -> Pile:
    """One room's copies with every defect of a real evening, as the sample generator scans them."""
    from testkit.samples.defects import DefectPlan
    from testkit.samples.session import generate_session

    folder = tmp_path_factory.mktemp("pile")
    truth = generate_session(
        folder, "U3", ROLL, pages=4, dpi=200, seed=7, defects=DefectPlan.all(), formats=("jpeg",)
    )
    return Pile(folder=folder, jpeg=folder / "jpeg", roll=write_roll(folder / "roll.csv"), truth=truth)
