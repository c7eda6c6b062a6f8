"""The room reports (procès-verbal de salle) the centres sealed into their lots: read for the office.

They name candidates (absent, late, left) and carry the signed signing sheet: only the office
role reaches them (office.web). The report is the contract's RoomReport as sealed; its scanned
sheets are in the page store by SHA-256, and only a sheet the report names is served.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.models.exam import Centre, Paper
from correction_server.models.room_reports import RoomReportRecord
from correction_server.models.scans import ScanLot
from massicot_core.contract import RoomDocument, RoomReport
from massicot_core.errors import Refused


@dataclass
class LotRoomReport:
    seal: str
    paper: str
    centre: str
    report: RoomReport | None  # None: the lot came without one (an older station)


def room_report(session: Session, seal: str) -> LotRoomReport:
    row = session.execute(
        select(ScanLot, Paper.code, Centre.uai)
        .join(Paper, Paper.id == ScanLot.paper_id)
        .join(Centre, Centre.id == ScanLot.centre_id)
        .where(ScanLot.seal_sha256 == seal)
    ).first()
    if row is None:
        raise Refused(404, "office.room_report.no_lot")
    lot, paper, centre = row
    record = session.scalar(select(RoomReportRecord).where(RoomReportRecord.scan_lot_id == lot.id))
    report = RoomReport.model_validate_json(record.report_json) if record is not None else None
    return LotRoomReport(seal=seal, paper=paper, centre=centre, report=report)


def room_document(session: Session, seal: str, sha256: str) -> RoomDocument:
    """A scanned sheet of the lot's room report; any other hash is refused as not there."""
    found = room_report(session, seal)
    for document in found.report.documents if found.report else []:
        if document.sha256 == sha256:
            return document
    raise Refused(404, "office.room_report.no_document")
