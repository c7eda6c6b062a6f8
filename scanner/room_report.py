"""The room report (procès-verbal de salle) and the signed signing sheet, kept in the lot.

`massicot scan room-report` and the console's form both call `record`. The report is written
as room-report.json in the lot folder (atomically) with the scanned sheets beside it in room/,
named by their SHA-256; a journal line records who and when. The seal copies the report into
the manifest (massicot_core.contract.RoomReport, with each sheet's hash) and the push sends
the sheets with the page images. They carry names: the server shows them to the office only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from massicot_core.contract import RoomDocument, RoomReport
from massicot_core.errors import UserError
from massicot_core.files import sha256_bytes, sha256_file, write_atomic
from scanner.lot import Lot, now_utc, refuse_if_sealed

REPORT_FILE = "room-report.json"
ROOM_DIR = "room"
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
_MEDIA = {
    b"%PDF": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG": ("image/png", ".png"),
    b"II*\x00": ("image/tiff", ".tif"),
    b"MM\x00*": ("image/tiff", ".tif"),
}


@dataclass(frozen=True)
class Sheet:
    """A scanned sheet handed in: what it is, its bytes, and its name (for the messages)."""

    kind: str  # "room_report_scan" | "signing_sheet"
    data: bytes
    name: str


def _media(sheet: Sheet) -> tuple[str, str]:
    for magic, found in _MEDIA.items():
        if sheet.data.startswith(magic):
            return found
    raise UserError(
        f"{sheet.name} is not a PDF, JPEG, PNG or TIFF file: scan the sheet again as one of those"
    )


def _lines(text: str | list[str] | None) -> list[str]:
    items = text.splitlines() if isinstance(text, str) else (text or [])
    return [line.strip() for line in items if line.strip()]


def read(lot: Lot) -> RoomReport | None:
    path = lot.folder / REPORT_FILE
    if not path.is_file():
        return None
    try:
        return RoomReport.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError):
        raise UserError(f"{path} cannot be read any more: enter the room report again") from None


def record(
    lot: Lot,
    *,
    by: str,
    room: str = "",
    registered: int | None = None,
    present: int | None = None,
    absent: str | list[str] | None = None,
    late: str | list[str] | None = None,
    left: str | list[str] | None = None,
    incidents: str = "",
    sheets: list[Sheet] = (),
) -> str:
    """Write (or replace) the lot's room report; returns plain words saying what was kept."""
    for name, value in (("registered", registered), ("present", present)):
        if value is not None and value < 0:
            raise UserError(f"'{name}' cannot be negative")
    if registered is not None and present is not None and present > registered:
        raise UserError(f"{present} present is more than the {registered} registered: check both numbers")
    with lot.writing():
        refuse_if_sealed(lot.state())
        previous = read(lot)
        documents: dict[str, RoomDocument] = {}
        if previous is not None:  # a sheet scanned earlier stays unless a new one of its kind comes
            documents = {d.kind: d for d in previous.documents}
        folder = lot.folder / ROOM_DIR
        for sheet in sheets:
            if not sheet.data:
                continue
            if len(sheet.data) > MAX_DOCUMENT_BYTES:
                raise UserError(f"{sheet.name} is over 50 MB: scan it again at a lower resolution")
            media_type, suffix = _media(sheet)
            digest = sha256_bytes(sheet.data)
            folder.mkdir(exist_ok=True)
            path = folder / f"{digest}{suffix}"
            if not path.exists():
                write_atomic(path, sheet.data)
            documents[sheet.kind] = RoomDocument(
                kind=sheet.kind, file=f"{ROOM_DIR}/{path.name}", sha256=digest, media_type=media_type
            )
        typed = registered is not None or present is not None
        if not typed and "room_report_scan" not in documents:
            raise UserError(
                "give the room report: type the numbers registered and present (and the rest), "
                "or scan the signed room report"
            )
        report = RoomReport(
            room=room.strip(),
            registered=registered,
            present=present,
            absent=_lines(absent),
            late=_lines(late),
            left=_lines(left),
            incidents=incidents.strip(),
            documents=sorted(documents.values(), key=lambda d: d.kind),
            written_by=by,
            written_at=now_utc(),
        )
        raw = (report.model_dump_json(indent=2) + "\n").encode()
        write_atomic(lot.folder / REPORT_FILE, raw)
        lot.append({"t": "room_report", "by": by, "at": report.written_at, "sha256": sha256_bytes(raw)})
    kept = ", ".join(d.kind.replace("_", " ") for d in report.documents) or "no scanned sheet"
    return f"the room report is in the lot ({kept}); it is sealed and sent with the lot"


def check_documents(lot_folder: Path, report: RoomReport) -> list[str]:
    """What differs between the sealed report's sheets and the files in the lot."""
    problems = []
    for document in report.documents:
        try:
            if sha256_file(lot_folder / document.file) != document.sha256:
                problems.append(f"the scanned {document.kind.replace('_', ' ')} {document.file} was changed")
        except FileNotFoundError:
            problems.append(f"the scanned {document.kind.replace('_', ' ')} {document.file} is missing")
    return problems


def summary(report: RoomReport | None) -> dict:
    """For the report's JSON: the room report as the lot holds it."""
    return json.loads(report.model_dump_json()) if report is not None else {}
