"""Words of dispatch: the lot slip (PDF)."""

from __future__ import annotations

FR = {
    "slip.session": "Session",
    "slip.pages": "Pages",
    "slip.total": "Total",
    "slip.total_copies": "{n} copie(s)",
    "slip.page_of": "Page {page}/{pages}",
    "slip.signature": "Date et signature du correcteur :",
    "lot.slip_pdf": "Bordereau (PDF)",
}

EN = {
    "slip.session": "Session",
    "slip.pages": "Pages",
    "slip.total": "Total",
    "slip.total_copies": "{n} copy(ies)",
    "slip.page_of": "Page {page}/{pages}",
    "slip.signature": "Date and corrector's signature:",
    "lot.slip_pdf": "Slip (PDF)",
}
