"""Fixtures of the authentication and authorisation tests; the world lives in testkit.worlds.auth."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from testkit.worlds.auth import make_client


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> TestClient:
    """A browser on a fresh migrated database (SQLite and PostgreSQL)."""
    with make_client(db_url, tmp_path / "store") as c:
        yield c
