"""Fixtures of the hostile-input tests: `pushing` (testkit.hostile.Pushing on a fresh database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from testkit.hostile import CENTRE_A, CENTRE_B, Pushing, make_app
from testkit.push_setup import seed_exam


@pytest.fixture
def pushing(db_url: str, tmp_path: Path):
    exam = seed_exam(db_url, {CENTRE_A: 4, CENTRE_B: 2}, paper="H1")
    app = make_app(db_url, tmp_path / "store")
    with TestClient(app, client=("203.0.113.9", 50000)) as client:
        yield Pushing(client, exam, db_url, tmp_path)
