"""The roll (émargement) of a room for one paper: who is expected, who sat the paper.

CSV columns `candidate,name,present` (present: yes/no; oui/non also accepted).
Shared by the printer (labels, signing sheet) and the scan station (reconciliation).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from massicot_core.errors import UserError
from massicot_core.identifiers import REGISTRATION_RE

REQUIRED_COLUMNS = ("candidate", "name", "present")
YES = {"yes", "y", "oui", "o", "1", "true"}
NO = {"no", "n", "non", "0", "false"}


@dataclass(frozen=True)
class RollLine:
    candidate: str  # registration number
    name: str
    present: bool


def parse_roll(text: str, origin: str = "roll") -> list[RollLine]:
    """Parse a roll CSV; every bad line is reported with its number, and nothing is returned."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UserError(
            f"{origin}: the first line must name the columns candidate,name,present "
            f"(missing: {', '.join(missing)})"
        )
    reader.fieldnames = header
    lines: list[RollLine] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        candidate = (row.get("candidate") or "").strip().upper()
        name = (row.get("name") or "").strip()
        present = (row.get("present") or "").strip().lower()
        if not REGISTRATION_RE.match(candidate):
            problems.append(f"line {number}: registration number {candidate!r} is not valid")
        elif candidate in seen:
            problems.append(f"line {number}: candidate {candidate} already on line {seen[candidate]}")
        if present not in YES | NO:
            problems.append(f"line {number}: 'present' must be yes or no, not {present!r}")
        if problems and problems[-1].startswith(f"line {number}:"):
            continue
        seen[candidate] = number
        lines.append(RollLine(candidate=candidate, name=name, present=present in YES))
    if problems:
        raise UserError(f"{origin}: " + "; ".join(problems) + ". Correct the file and run again.")
    if not lines:
        raise UserError(f"{origin}: the roll lists no candidate")
    return lines


def roll_csv(lines: list[RollLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REQUIRED_COLUMNS)
    for line in lines:
        writer.writerow([line.candidate, line.name, "yes" if line.present else "no"])
    return out.getvalue()


def read_roll(path: Path) -> list[RollLine]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"roll file {path} does not exist") from None
    except UnicodeDecodeError:
        raise UserError(f"roll file {path} is not UTF-8 text: export it again as CSV UTF-8") from None
    except OSError as exc:
        raise UserError(f"roll file {path} cannot be read: {exc.strerror}") from None
    return parse_roll(text, origin=str(path))
