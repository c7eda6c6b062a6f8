"""Fixtures of the standardisation tests (locking the barème, the shared comment bank)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from testkit.worlds.entente import EntenteWorld, build_entente_world


@pytest.fixture
def entente(session_factory: sessionmaker[Session]) -> EntenteWorld:
    return build_entente_world(session_factory)
