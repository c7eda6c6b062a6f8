"""Fixtures of the marking tests; the world builder lives in marking_world.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

# --import-mode=importlib puts no test folder on sys.path; the tests import marking_world.
sys.path.insert(0, str(Path(__file__).parent))

from marking_world import World, build_world  # noqa: E402


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)
