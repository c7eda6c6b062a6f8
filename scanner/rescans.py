"""The exam office's rescan requests, on the station: list them, scan the sheets into the lot.

The correction server lists the pages its office asked this centre to scan again
(`GET /api/v1/rescan-requests`, the centre token). The secretary finds the sheets, scans them,
and `massicot scan rescan` puts each new page in place of the old one in the lot folder: the
lot is unsealed (journaled, with the request as reason), the old page set aside (kept in the
record), the new scan imported like any other, and the lot sealed again. Pushed again, the
server replaces only those pages; every other page of the lot is byte for byte the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from massicot_core.contract import Manifest
from massicot_core.errors import UserError
from massicot_core.files import sha256_file
from scanner.importing import import_files
from scanner.lot import Lot
from scanner.push_http import Patience, ServerConnections, detail
from scanner.resolve import rescan_page
from scanner.seal import seal, unseal


@dataclass(frozen=True)
class RescanRequest:
    id: int
    paper: str
    copy: str
    page: int
    reason: str
    requested_at: str
    seals: tuple[str, ...]


def fetch_requests(server: str, token: str, timeout: float = 30.0) -> list[RescanRequest]:
    """The centre's open rescan requests, as the server lists them."""
    connections = ServerConnections(server, token, timeout, Patience(timeout, lambda _text: None))
    try:
        response = connections.call("GET", "/api/v1/rescan-requests")
    finally:
        connections.close()
    if response.status_code != 200:
        raise UserError(f"the server refused to list the rescan requests: {detail(response)}")
    return [
        RescanRequest(
            int(r["id"]),
            r["paper"],
            r["copy"],
            int(r["page"]),
            r.get("reason", ""),
            r["requested_at"],
            tuple(r.get("seals", [])),
        )
        for r in response.json().get("requests", [])
    ]


def lot_seals(lot: Lot) -> set[str]:
    """Every seal this lot folder was ever sealed under (the journal keeps them all)."""
    seals = set()
    for line in (lot.folder / "journal.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("t") == "sealed":
            seals.add(entry.get("manifest_sha256", ""))
    return seals


def requests_for_lot(requests: list[RescanRequest], lot: Lot) -> list[RescanRequest]:
    seals = lot_seals(lot)
    return [r for r in requests if seals.intersection(r.seals)]


def rescan_into_lot(
    lot: Lot, pages: list[tuple[str, int]], files: list[Path], by: str, reason: str = ""
) -> tuple[str, str]:
    """Put the new scans of `pages` (copy, number) in the lot and seal it again.

    Returns (what was done, the new seal). Nothing is pushed: `massicot push` does that.
    """
    if not pages:
        raise UserError(
            "say which page to rescan: --copy COPY --page N (as `scan rescan-requests` lists them)"
        )
    if not files:
        raise UserError("give the file(s) of the new scan")
    said = []
    # The centre the lot was sealed for (the import may not have recorded it in lot.json).
    centre = None
    if lot.manifest_path.exists():
        centre = Manifest.model_validate_json(lot.manifest_path.read_bytes()).centre
    why = reason or "rescan asked by the exam office: " + ", ".join(f"copy {c} page {n}" for c, n in pages)
    if lot.state().sealed:
        said.append(unseal(lot, by, why))
    # Run again after a stop, the same rescan keeps the new scan it already imported.
    new_files = frozenset(sha256_file(path) for path in files if path.is_file())
    for copy, number in pages:
        said.append(rescan_page(lot, copy, number, by, why, new_files))
    with lot.writing():
        result = import_files(lot, files, workers=1)
    said.append(f"{result.received} new page(s) received")
    manifest = seal(lot, by, centre)
    said.append(f"sealed again: {manifest.manifest_sha256}")
    return "; ".join(said), manifest.manifest_sha256
