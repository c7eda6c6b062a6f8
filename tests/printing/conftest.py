"""Fixtures for the printing tests: the real `massicot` command and a small roll."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MASSICOT = Path(sys.executable).parent / "massicot"

ROLL_CSV = """candidate,name,present
A1234567,Dupont Jeanne,yes
B7654321,Martin Éric,no
C2468013,Nguyen Thi Lan,oui
"""


@pytest.fixture
def roll_csv(tmp_path: Path) -> Path:
    path = tmp_path / "roll.csv"
    path.write_text(ROLL_CSV, encoding="utf-8")
    return path


@pytest.fixture
def run_massicot():
    def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(MASSICOT), *args], capture_output=True, text=True, env=env, timeout=120)

    return run
