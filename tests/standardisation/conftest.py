"""Fixtures of the standardisation tests (locking the barème, the shared comment bank)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

# --import-mode=importlib puts no test folder on sys.path. The marking tests' world and browser
# helpers are imported from their folder, not copied.
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "marking"))
sys.path.insert(0, str(HERE))

from entente_world import EntenteWorld, build_entente_world  # noqa: E402


@pytest.fixture
def entente(session_factory: sessionmaker[Session]) -> EntenteWorld:
    return build_entente_world(session_factory)
