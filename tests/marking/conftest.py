"""Fixtures of the marking tests; the world builder lives in testkit.worlds.marking."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from testkit.worlds.marking import World, build_world


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)
