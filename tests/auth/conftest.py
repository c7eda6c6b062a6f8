"""Fixtures of the authentication and authorisation tests; the world lives in auth_world.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# --import-mode=importlib puts no test folder on sys.path; the tests import auth_world.
sys.path.insert(0, str(Path(__file__).parent))

from auth_world import make_client  # noqa: E402


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> TestClient:
    """A browser on a fresh migrated database (SQLite and PostgreSQL)."""
    with make_client(db_url, tmp_path / "store") as c:
        yield c
