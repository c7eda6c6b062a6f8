"""Helpers shared by the scan station's tests: the roll, a scripted secretary, the CLI, the lot's
report and journal."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from massicot_core.roll import RollLine

MASSICOT = [str(Path(sys.executable).with_name("massicot"))]
ROLL = [RollLine(f"C{1000 + i}", f"Candidate {i}", present=i != 3) for i in range(6)]


def write_roll(path: Path, lines: list[RollLine] = ROLL) -> Path:
    rows = ["candidate,name,present"] + [
        f"{x.candidate},{x.name},{'yes' if x.present else 'no'}" for x in lines
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@dataclass
class Secretary:
    """StationUI for tests: records what the station says and answers its questions.

    `answers` are given in order; when they run out the secretary answers "end".
    """

    answers: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pages: list[tuple[str, bool]] = field(default_factory=list)
    feeds: list = field(default_factory=list)
    finished_view: object = None
    auto: object = None  # callable(question) -> answer, used when answers run out

    def started(self, description, view):
        self.description = description

    def page(self, record, new, view):
        self.pages.append((record.source, new))

    def feed_ended(self, result, view):
        self.feeds.append(result)

    def note(self, text):
        self.notes.append(text)

    def ask(self, text):
        self.questions.append(text)
        if self.answers:
            return self.answers.pop(0)
        return self.auto(text) if self.auto else "end"

    def finished(self, view):
        self.finished_view = view


def run_cli(
    *args: str, stdin: str = "", env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [*MASSICOT, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=timeout
    )


def report_of(lot: Path) -> dict:
    import json

    done = run_cli("scan", "report", str(lot), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def journal_entries(lot: Path, kind: str) -> list[dict]:
    import json

    lines = (lot / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in (json.loads(x) for x in lines if x.strip()) if e.get("t") == kind]
