"""A system part a test needs but the machine lacks: skipped on a developer's machine, a failure
in CI (CI=true), where every test must really run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> NoReturn:
    import pytest

    if in_ci():
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def need(program: str) -> None:
    """A program given by path or by name on PATH, or the test is skipped (fails in CI)."""
    if not Path(program).exists() and shutil.which(program) is None:
        missing(f"{program} is missing")
