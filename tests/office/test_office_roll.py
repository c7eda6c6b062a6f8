"""The office writes each centre's roll from the registered candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from correction_server.dispatch.planning import find_paper
from correction_server.office.candidates import import_candidates
from correction_server.office.papers import import_paper
from correction_server.office.rolls import centre_roll
from massicot_core.errors import UserError
from massicot_core.roll import parse_roll, roll_csv

SAMPLES = Path(__file__).resolve().parents[2] / "massicot" / "samples"


@pytest.fixture
def imported(session_factory):
    import_paper(session_factory, SAMPLES / "paper_u3.yaml")
    import_candidates(session_factory, SAMPLES / "candidates.csv")
    return session_factory


def test_roll_lists_the_centre_candidates_only(imported):
    with imported() as session:
        lines = centre_roll(session, find_paper(session, "U3"), "0130040y")
    expected = [
        row.split(",")[0]
        for row in (SAMPLES / "candidates.csv").read_text(encoding="utf-8").splitlines()[1:]
        if ",0130040Y," in row
    ]
    assert [line.candidate for line in lines] == sorted(expected)
    assert all(line.present for line in lines)
    # What the office writes, the scan station reads back unchanged.
    assert parse_roll(roll_csv(lines)) == lines


def test_unknown_centre_is_named(imported):
    with imported() as session, pytest.raises(UserError, match="0999999Z"):
        centre_roll(session, find_paper(session, "U3"), "0999999Z")
