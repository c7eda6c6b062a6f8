"""The printable bordereau de notation (slip) of a correction lot, as a PDF made with reportlab.

One A4 portrait document: the paper, the lot and the corrector at the top; then one row per copy,
copy ids in increasing order, with the pages received and an empty box for the mark written by
hand; a totals row; a line for the date and the corrector's signature. Every page repeats the
table's head and says "page n/N" with the lot it belongs to, so loose sheets find their way back.
"""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from correction_server.dispatch.lots import Slip
from massicot_core.words import translate

MARGIN = 18 * mm
ROW_HEIGHT = 7.5 * mm  # room to write a mark by hand
_TITLE = ParagraphStyle("slip-title", fontName="Helvetica-Bold", fontSize=16, leading=20, spaceAfter=4 * mm)
_CELL = ParagraphStyle("slip-cell", fontName="Helvetica", fontSize=10, leading=12)
_LABEL = ParagraphStyle("slip-label", parent=_CELL, fontName="Helvetica-Bold")


def render_slip_pdf(slip: Slip, lang: str = "fr") -> bytes:
    """The slip as PDF bytes; the same slip gives the same bytes (no date or random id inside)."""

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    out = io.BytesIO()
    title = t("slip.document_title", paper=slip.paper_code, lot=slip.lot_number)
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=title,
        author="Massicot",
        invariant=1,
    )
    story = [
        Paragraph(t("slip.title"), _TITLE),
        _head_table(slip, t),
        Spacer(0, 6 * mm),
        _copies_table(slip, t),
        Spacer(0, 12 * mm),
        Paragraph(t("slip.signature"), _CELL),
    ]
    footer = title

    def canvas_maker(*args, **kwargs) -> Canvas:
        return _NumberedCanvas(
            *args, footer=footer, page_words=lambda n, total: t("slip.page_of", page=n, pages=total), **kwargs
        )

    doc.build(story, canvasmaker=canvas_maker)
    return out.getvalue()


def _head_table(slip: Slip, t) -> Table:
    rows = []
    if slip.session_name:
        rows.append([t("slip.session"), slip.session_name])
    rows += [
        [t("slip.paper"), f"{slip.paper_code} – {slip.paper_title}"],
        [t("slip.lot"), str(slip.lot_number)],
        [t("slip.corrector"), slip.corrector_name],
        [t("slip.count"), str(len(slip.copy_ids))],
        [t("slip.pages"), str(slip.total_pages)],
    ]
    table = Table(
        [[Paragraph(a, _LABEL), Paragraph(_escape(b), _CELL)] for a, b in rows], colWidths=[45 * mm, None]
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _copies_table(slip: Slip, t) -> Table:
    counts = slip.page_counts or tuple(0 for _ in slip.copy_ids)
    data = [["#", t("slip.copy_id"), t("slip.pages"), t("slip.mark")]]
    for position, (copy_id, pages) in enumerate(zip(slip.copy_ids, counts, strict=True), start=1):
        data.append([str(position), copy_id, str(pages), ""])
    data.append([t("slip.total"), t("slip.total_copies", n=len(slip.copy_ids)), str(slip.total_pages), ""])
    width = A4[0] - 2 * MARGIN
    table = Table(
        data,
        colWidths=[14 * mm, 62 * mm, 22 * mm, width - 98 * mm],
        rowHeights=[9 * mm] + [ROW_HEIGHT] * (len(data) - 1),
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, 1), (-1, -1), "Helvetica"),
                ("FONTNAME", (1, 1), (1, -2), "Courier-Bold"),  # ids read best in a fixed width
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("FONTSIZE", (1, 1), (1, -2), 11),
                ("ALIGN", (0, 0), (0, -2), "RIGHT"),
                ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")),
            ]
        )
    )
    return table


def _escape(text: str) -> str:
    """Paragraph text is a small markup language: a name with & or < must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _NumberedCanvas(Canvas):
    """Draws "page n/N" on every page: pages are kept until the end, when N is known."""

    def __init__(self, *args, footer: str, page_words, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._page_words = page_words
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _ = self._pagesize
        self.setFont("Helvetica", 9)
        self.setFillColor(colors.black)
        self.drawString(MARGIN, 10 * mm, self._footer)
        self.drawRightString(width - MARGIN, 10 * mm, self._page_words(number, total))
