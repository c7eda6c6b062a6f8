"""The problems of an imported file and the refusal that lists them.

Every office import (candidates, papers, accounts) checks the whole file first and reports each
problem with its line number; a file with any problem imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

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


@contextmanager
def unit_of_work(factory: sessionmaker[Session], dry_run: bool = False) -> Iterator[Session]:
    """One transaction, committed whole; with dry_run, rolled back whole (a dry run checks and
    counts exactly what the import would do, and writes nothing)."""
    with factory() as session:
        session.begin()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
        else:
            session.commit()
