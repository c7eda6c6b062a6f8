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


@pytest.fixture
def database_with_paper(tmp_path: Path) -> str:
    """The URL of a database holding one paper, U3."""
    from correction_server.db import Base, make_engine, make_session_factory, transaction
    from correction_server.models.exam import ExamSession, Paper

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with transaction(make_session_factory(engine)) as session:
        exam = ExamSession(name="BTS 2024 normale")
        session.add(exam)
        session.add(Paper(session=exam, code="U3"))
    engine.dispose()
    return url
