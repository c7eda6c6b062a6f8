"""Fixtures of the dispatch tests; generated sessions live in dispatch_sessions.py."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib puts no test folder on sys.path; the tests import dispatch_sessions.
sys.path.insert(0, str(Path(__file__).parent))
