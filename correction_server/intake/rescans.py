"""What a centre's station reads of the rescan requests the office made for its lots.

Only the centre's own requests, still open; each names the paper, the copy id, the page number
and the seals its lot was pushed under (the first push's and any re-push's), so the station
finds the lot folder they concern. Nothing about the candidate: the copy id is all it needs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.auth.tokens import Principal
from correction_server.intake.refusals import require_centre
from correction_server.models import Paper, RescanRequest, RescanState, ScanLot, ScanLotRepush


def open_requests(session: Session, principal: Principal | None) -> list[dict[str, object]]:
    principal = require_centre(principal)
    rows = session.execute(
        select(RescanRequest, ScanLot.seal_sha256, Paper.code)
        .join(ScanLot, ScanLot.id == RescanRequest.scan_lot_id)
        .join(Paper, Paper.id == ScanLot.paper_id)
        .where(RescanRequest.centre_id == principal.centre_id, RescanRequest.state == RescanState.OPEN)
        .order_by(RescanRequest.id)
    ).all()
    lot_ids = {request.scan_lot_id for request, _seal, _code in rows}
    later: dict[int, list[str]] = {}
    if lot_ids:
        for lot_id, seal in session.execute(
            select(ScanLotRepush.scan_lot_id, ScanLotRepush.seal_sha256)
            .where(ScanLotRepush.scan_lot_id.in_(lot_ids))
            .order_by(ScanLotRepush.received_at)
        ):
            later.setdefault(lot_id, []).append(seal)
    return [
        {
            "id": request.id,
            "paper": code,
            "copy": request.copy_id,
            "page": request.page_number,
            "reason": request.reason,
            "requested_at": request.requested_at.isoformat(),
            "seals": [seal, *later.get(request.scan_lot_id, [])],
        }
        for request, seal, code in rows
    ]
