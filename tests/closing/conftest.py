"""Fixtures of the closing tests: the generated sessions of tests/coordination/coord_world.py."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib puts no test folder on sys.path; the tests import coord_world.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "coordination"))
