"""Sample sessions generated once per test module (generation takes seconds, not milliseconds)."""

from __future__ import annotations

import pytest

from massicot_core.roll import RollLine
from testkit.samples.defects import DefectPlan
from testkit.samples.session import generate_session

ROLL = [
    RollLine(candidate=f"A{n:07d}", name=f"Nom{n} Prénom{n}", present=n not in (3, 8)) for n in range(1, 13)
]


@pytest.fixture(scope="module")
def clean_session(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    truth = generate_session(
        out, "U3", ROLL, dpi=200, seed=7, defects=DefectPlan.none(), formats=("jpeg", "pdf", "tiff")
    )
    return out, truth


@pytest.fixture(scope="module")
def evening_session(tmp_path_factory):
    out = tmp_path_factory.mktemp("evening")
    truth = generate_session(out, "U3", ROLL, dpi=200, seed=11, defects=DefectPlan.all(), formats=("jpeg",))
    return out, truth
