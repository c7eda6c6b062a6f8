"""Correction lots in the browser: a lot's page and its bordereau (slip), printable, CSV or PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from correction_server.auth.access import ensure_lot_visible
from correction_server.deps import Db, StaffUser
from correction_server.dispatch.lots import lot_slip, lot_summary, slip_csv
from correction_server.dispatch.slip_pdf import render_slip_pdf
from correction_server.models.accounts import Role
from correction_server.web.rendering import render, request_language

router = APIRouter(include_in_schema=False)

# Where a copy opens for marking; the marking pages define it.
COPY_LINK = "/marking/copies/{copy_id}"


@router.get("/lots/{lot_id}", response_class=HTMLResponse)
def lot_page(request: Request, lot_id: int, user: StaffUser, session: Db) -> Response:
    ensure_lot_visible(session, user, lot_id)
    slip = lot_slip(session, lot_id)
    summary = lot_summary(session, lot_id)
    link = COPY_LINK if user.role == Role.CORRECTOR else None
    return render(request, "lot.html", {"lot": summary, "copy_ids": slip.copy_ids, "copy_link": link})


@router.get("/lots/{lot_id}/slip", response_class=HTMLResponse)
def slip_page(request: Request, lot_id: int, user: StaffUser, session: Db) -> Response:
    ensure_lot_visible(session, user, lot_id)
    return render(request, "slip.html", {"slip": lot_slip(session, lot_id)})


@router.get("/lots/{lot_id}/slip.csv")
def slip_download(lot_id: int, user: StaffUser, session: Db) -> Response:
    ensure_lot_visible(session, user, lot_id)
    slip = lot_slip(session, lot_id)
    filename = f"bordereau-{slip.paper_code}-lot{slip.lot_number}.csv"
    return Response(
        slip_csv(slip),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/lots/{lot_id}/slip.pdf")
def slip_pdf(request: Request, lot_id: int, user: StaffUser, session: Db) -> Response:
    ensure_lot_visible(session, user, lot_id)
    slip = lot_slip(session, lot_id)
    session.close()  # everything is read: give the connection back before drawing the PDF
    filename = f"bordereau-{slip.paper_code}-lot{slip.lot_number}.pdf"
    return Response(
        render_slip_pdf(slip, request_language(request)),
        media_type="application/pdf",
        # inline: the browser shows it, ready to print; its name when saved.
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
