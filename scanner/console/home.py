"""The station's folder: the rolls it knows, its lots, and who takes the decisions tonight.

    HOME/rolls/NAME.csv        rolls received from the exam office (kept once given)
    HOME/lots/PAPER-STAMP/     one lot folder each, the same folders `massicot scan` uses
    HOME/station.json          who decides this evening (asked once, not per decision)

Nothing here is state the lots do not already hold: a lot's progress is its journal, its seal
its manifest, its sending push-state.json. So a station killed at any moment and started again
finds every unfinished lot and offers it first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from massicot_core.errors import UserError
from massicot_core.files import write_atomic
from scanner.lot import LOT_FILE, Lot

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class LotEntry:
    name: str
    folder: Path
    paper: str
    centre: str | None
    state: str  # "scanning" | "sealed" | "queued" | "sent"
    pages: int


class StationHome:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            (folder / "rolls").mkdir(parents=True, exist_ok=True)
            (folder / "lots").mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"the station's folder {folder} cannot be made ({exc.strerror}): choose another with --home"
            ) from None

    # -- rolls

    def rolls(self) -> list[str]:
        return sorted(p.name for p in (self.folder / "rolls").glob("*.csv"))

    def keep_roll(self, filename: str, data: bytes) -> Path:
        name = SAFE_NAME.sub("-", Path(filename or "roll.csv").stem).strip("-") or "roll"
        path = self.folder / "rolls" / f"{name}.csv"
        write_atomic(path, data)
        return path

    def roll_path(self, name: str) -> Path:
        path = self.folder / "rolls" / Path(name).name
        if not path.is_file():
            raise UserError(f"there is no roll {name!r} on this station: give the exam office's file")
        return path

    # -- lots

    def new_lot_folder(self, paper: str) -> Path:
        return self.folder / "lots" / f"{SAFE_NAME.sub('-', paper)}-{datetime.now():%Y%m%d-%H%M%S}"

    def lot(self, name: str) -> Lot:
        folder = self.folder / "lots" / Path(name).name
        if not (folder / LOT_FILE).is_file():
            raise UserError("console.error.no_lot")
        return Lot(folder)

    def lots(self) -> list[LotEntry]:
        entries = []
        for folder in sorted((self.folder / "lots").iterdir(), reverse=True):
            if not (folder / LOT_FILE).is_file():
                continue
            lot = Lot(folder)
            state = lot.state()
            entries.append(
                LotEntry(
                    name=folder.name,
                    folder=folder,
                    paper=state.info.paper,
                    centre=state.info.centre,
                    state=lot_state(folder, bool(state.sealed)),
                    pages=len(state.pages),
                )
            )
        return entries

    def unfinished(self) -> list[LotEntry]:
        return [entry for entry in self.lots() if entry.state != "sent"]

    # -- who decides

    def _settings(self) -> dict:
        try:
            return json.loads((self.folder / "station.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def operator(self) -> str | None:
        settings = self._settings()
        # Asked once per evening: a name given another day is asked again.
        if settings.get("operator_day") == f"{datetime.now():%Y-%m-%d}":
            return settings.get("operator") or None
        return None

    def set_operator(self, name: str) -> None:
        name = " ".join(name.split())
        if not name:
            raise UserError("console.check.operator_help")
        settings = self._settings() | {"operator": name, "operator_day": f"{datetime.now():%Y-%m-%d}"}
        write_atomic(self.folder / "station.json", json.dumps(settings, ensure_ascii=False).encode())


def lot_state(folder: Path, sealed: bool) -> str:
    if not sealed:
        return "scanning"
    try:
        pushed = json.loads((folder / "push-state.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        pushed = {}
    if pushed.get("state") in ("received", "already received"):
        return "sent"
    if (folder / QUEUED_FILE).exists():
        return "queued"
    return "sealed"


QUEUED_FILE = "send-queued"  # in a lot folder: the operator asked to send it; the sender retries until done
