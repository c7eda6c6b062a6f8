"""The problems of an imported file and the refusal that lists them.

Every office import (candidates, papers, accounts) checks the whole file first and reports each
problem with its line number; a file with any problem imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from massicot_core.errors import UserError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the file. line 0 means the file as a whole."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class ImportRejected(UserError):
    """The file has problems: nothing was imported. The message lists every bad line."""

    def __init__(self, origin: str, problems: Iterable[Problem]) -> None:
        self.origin = origin
        self.problems = sorted(set(problems))
        count = len(self.problems)
        head = (
            f"{origin}: {count} problem{'s' if count != 1 else ''}, nothing was imported. "
            "Correct the file and run the same command again."
        )
        super().__init__(head + "".join(f"\n  {p}" for p in self.problems))
