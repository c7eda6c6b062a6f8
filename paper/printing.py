"""Printing the copy model as PDF: blank booklets, anonymity labels, the room's signing sheet.

Everything is placed from the copy model (templates/models/*.yaml), in mm from the
top-left corner of an upright page; the printer and the scanner read the same data.
Codes are drawn as vector rectangles so they stay sharp at any printer resolution.
A PDF is written to a temporary file beside its destination and renamed at the end:
an error never leaves a half-written file behind.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import segno
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from massicot_core.errors import UserError
from massicot_core.files import atomic_output
from massicot_core.identifiers import (
    CORNERS,
    CodeError,
    LabelCode,
    PageCode,
    check_character,
    validate_paper_code,
)
from massicot_core.roll import RollLine
from paper.copy_model import Box, CopyModel, load_model

MAX_BOOKLETS = 10_000
MAX_PAGES = 40
DEFAULT_PAGES = 4
FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"


# ---------------------------------------------------------------- checks


def check_paper(paper: str, known: Callable[[str], bool] | None = None) -> str:
    """The paper code must be well formed; `known`, when given, must know the paper.

    The copy model knows no database: the command that prints hands in the lookup (the server's,
    which consults MASSICOT_DB only, so printing blank booklets before any import still works on
    a fresh machine).
    """
    check_paper_format(paper)
    if known is not None and not known(paper):
        raise UserError(
            f"paper {paper} is not known in the database: import it first (massicot office import paper)"
        )
    return paper


def check_paper_format(paper: str) -> str:
    try:
        return validate_paper_code(paper)
    except CodeError as exc:
        raise UserError(str(exc)) from None


def check_counts(count: int, pages: int) -> None:
    if not 1 <= count <= MAX_BOOKLETS:
        raise UserError(f"--count must be between 1 and {MAX_BOOKLETS} booklets, not {count}")
    if not 1 <= pages <= MAX_PAGES:
        raise UserError(f"--pages must be between 1 and {MAX_PAGES}, not {pages}")


# ---------------------------------------------------------------- drawing helpers


class _Page:
    """Converts the model's mm, top-left origin, into reportlab points, bottom-left origin."""

    def __init__(self, canvas: Canvas, page_mm: tuple[float, float]):
        self.c = canvas
        self.height_mm = page_mm[1]

    def y(self, y_mm: float) -> float:
        return (self.height_mm - y_mm) * mm

    def rect(self, box: Box, *, fill: bool = False, stroke: bool = True) -> None:
        x, y, w, h = box
        self.c.rect(x * mm, self.y(y + h), w * mm, h * mm, fill=int(fill), stroke=int(stroke))

    def text(self, box: Box, text: str, size: float, *, font: str = FONT, align: str = "left") -> None:
        """Text vertically centred in `box`, shrunk if it would overflow the box's width."""
        x, y, w, h = box
        width = self.c.stringWidth(text, font, size)
        if width > w * mm:
            size = size * (w * mm) / width
            width = w * mm
        self.c.setFont(font, size)
        baseline = self.y(y + h / 2) - size * 0.35
        if align == "centre":
            self.c.drawString(x * mm + (w * mm - width) / 2, baseline, text)
        else:
            self.c.drawString(x * mm, baseline, text)

    def code(self, box: Box, payload: str) -> None:
        """A QR code whose modules fill `box`; its quiet zone is kept free by the layout."""
        qr = segno.make(payload, error="m", micro=False, boost_error=True)
        draw_modules(self.c, self.height_mm, box, qr.matrix)


def draw_modules(canvas: Canvas, page_height_mm: float, box: Box, rows: Sequence[Sequence[int]]) -> None:
    """A matrix symbol (rows of dark/light modules) stretched over the square `box`.

    Written as raw PDF operators in module units (one `re` per run of dark modules):
    twenty times faster than path objects and a smaller file, with no seams between modules.
    """
    x, y, w, _ = box
    module = w * mm / len(rows)
    ops = [f"q 0 g {module:.4f} 0 0 {-module:.4f} {x * mm:.3f} {(page_height_mm - y) * mm:.3f} cm"]
    for r, row in enumerate(rows):
        c = 0
        for dark, run in itertools.groupby(row, key=bool):
            n = sum(1 for _ in run)
            if dark:
                ops.append(f"{c} {r} {n} 1 re")
            c += n
    ops.append("f Q")
    canvas.addLiteral("\n".join(ops))


def _settings(model: CopyModel) -> dict:
    return model.extra.get("print", {})


def title_text(paper: str, page: int, pages: int, copy_id: str) -> str:
    return f"Épreuve {paper} — page {page}/{pages} — copie n° {copy_id}"


def _answer_area(p: _Page, box: Box, settings: dict) -> None:
    x, y, w, h = box
    c = p.c
    c.setLineWidth(0.4)
    c.setStrokeGray(float(settings.get("rule_gray", 0.78)))
    pitch = float(settings.get("rule_pitch_mm", 8))
    line = y + pitch
    while line <= y + h + 0.01:
        c.line(x * mm, p.y(line), (x + w) * mm, p.y(line))
        line += pitch
    c.setStrokeGray(float(settings.get("margin_gray", 0.6)))
    margin = x + float(settings.get("margin_line_mm", 20))
    c.line(margin * mm, p.y(y), margin * mm, p.y(y + h))
    c.setStrokeGray(0)


def _identity_header(p: _Page, model: CopyModel, settings: dict) -> None:
    c = p.c
    size = float(settings.get("header_caption_font_pt", 7))
    c.setLineWidth(0.8)
    p.rect(model.header)
    hx, hy, hw, _ = model.header
    c.setFillGray(0.35)
    p.text((hx + 2, hy + 0.5, hw - 4, 3), settings.get("header_title", ""), size, font=FONT_BOLD)
    captions = settings.get("identity_captions", {})
    c.setLineWidth(0.5)
    for name, box in model.identity_boxes.items():
        x, y, w, _ = box
        p.text((x, y - 3.2, w, 3), captions.get(name, name), size)
        p.rect(box)
    c.setDash(3, 2)
    c.setStrokeGray(0.45)
    p.rect(model.label)
    c.setDash()
    lx, ly, lw, lh = model.label
    p.text((lx, ly + lh / 2 - 2, lw, 4), settings.get("label_caption", ""), size + 2, align="centre")
    c.setFillGray(0)
    c.setStrokeGray(0)


def _static_forms(canvas: Canvas, model: CopyModel) -> None:
    """What every booklet prints alike is drawn once per PDF and reused on each page."""
    settings = _settings(model)
    page = _Page(canvas, model.page_mm)
    canvas.beginForm("first_page")
    _identity_header(page, model, settings)
    _answer_area(page, model.answer_first, settings)
    canvas.endForm()
    canvas.beginForm("other_page")
    _answer_area(page, model.answer, settings)
    canvas.endForm()


def _booklet_page(p: _Page, model: CopyModel, paper: str, copy_id: str, page: int, pages: int) -> None:
    settings = _settings(model)
    p.c.doForm("first_page" if page == 1 else "other_page")
    for corner in CORNERS:
        p.code(model.codes[corner], PageCode(paper, copy_id, page, corner).payload())
    p.text(
        model.title_line,
        title_text(paper, page, pages, copy_id),
        float(settings.get("title_font_pt", 11)),
        font=FONT_BOLD,
        align="centre",
    )


# ---------------------------------------------------------------- documents


def pdf_pages_per_booklet(pages: int) -> int:
    """PDF pages one booklet takes: an odd booklet gets a blank filler so the next starts a sheet."""
    return pages + pages % 2


def booklet_pdf(
    paper: str,
    copy_ids: Sequence[str],
    pages: int,
    out: Path,
    model: CopyModel | None = None,
) -> None:
    """Blank booklets, pages 1..P of each in order, ready for double-sided printing.

    When P is odd, a blank filler page follows each booklet so that the next one starts
    on a new sheet.
    """
    model = model or load_model()
    check_counts(len(copy_ids), pages)
    check_paper_format(paper)
    size = (model.page_mm[0] * mm, model.page_mm[1] * mm)
    with atomic_output(out) as tmp:
        canvas = Canvas(str(tmp), pagesize=size, pageCompression=1)
        canvas.setTitle(f"Copies {paper}")
        canvas.setCreator("Massicot")
        _static_forms(canvas, model)
        for copy_id in copy_ids:
            for page in range(1, pages + 1):
                _booklet_page(_Page(canvas, model.page_mm), model, paper, copy_id, page, pages)
                canvas.showPage()
            if pages % 2:
                canvas.showPage()
        canvas.save()


def registration_text(registration: str) -> str:
    """Registration number as printed on the label: the number, a space, its check character."""
    return f"{registration} {check_character(registration)}"


def labels_pdf(paper: str, roll: Sequence[RollLine], out: Path, model: CopyModel | None = None) -> None:
    """One anonymity label per roll line, in roll order, laid out row by row on label sheets."""
    model = model or load_model()
    check_paper_format(paper)
    if not roll:
        raise UserError("the roll lists no candidate: there is no label to print")
    sheet = model.label_sheet
    parts = {k: tuple(float(v) for v in box) for k, box in _settings(model).get("label_parts", {}).items()}
    size = (sheet.page_mm[0] * mm, sheet.page_mm[1] * mm)
    with atomic_output(out) as tmp:
        canvas = Canvas(str(tmp), pagesize=size, pageCompression=1)
        canvas.setTitle(f"Étiquettes {paper}")
        canvas.setCreator("Massicot")
        p = _Page(canvas, sheet.page_mm)
        for index, line in enumerate(roll):
            if index and index % sheet.per_sheet == 0:
                canvas.showPage()
            lx, ly, _, _ = sheet.label_box(index)
            draw_label(p, (lx, ly), paper, line, parts)
        canvas.showPage()
        canvas.save()


def draw_label(p: _Page, origin: tuple[float, float], paper: str, line: RollLine, parts: dict) -> None:
    ox, oy = origin

    def at(box) -> Box:
        x, y, w, h = box
        return (ox + x, oy + y, w, h)

    p.code(at(parts["code"]), LabelCode(paper, line.candidate).payload())
    p.text(at(parts["registration"]), registration_text(line.candidate), 13, font=FONT_BOLD)
    p.text(at(parts["name"]), line.name, 9)
    p.text(at(parts["paper"]), f"Épreuve {paper}", 9)


def roll_pdf(paper: str, roll: Sequence[RollLine], out: Path, model: CopyModel | None = None) -> None:
    """The room's signing sheet: one row per candidate, presence to tick, totals to fill in."""
    model = model or load_model()
    check_paper_format(paper)
    if not roll:
        raise UserError("the roll lists no candidate: there is no signing sheet to print")
    cfg = _settings(model).get("roll_sheet", {})
    left, top, right, bottom = (float(v) for v in cfg.get("margins_mm", [15, 18, 15, 15]))
    font_pt = float(cfg.get("font_pt", 10))
    row_h = float(cfg.get("row_height_mm", 11))
    columns = [(str(c), float(w)) for c, w in cfg.get("columns", [])]
    page_w, page_h = model.page_mm
    size = (page_w * mm, page_h * mm)
    # Rows that fit below the title and column heads, leaving room for the totals line.
    per_page = max(1, int((page_h - top - bottom - 14 - 2 * row_h) // row_h))
    chunks = [roll[i : i + per_page] for i in range(0, len(roll), per_page)]
    with atomic_output(out) as tmp:
        canvas = Canvas(str(tmp), pagesize=size, pageCompression=1)
        canvas.setTitle(f"Émargement {paper}")
        canvas.setCreator("Massicot")
        p = _Page(canvas, model.page_mm)
        number = 0
        for sheet_index, chunk in enumerate(chunks):
            p.text(
                (left, top, page_w - left - right, 8),
                f"Feuille d'émargement — épreuve {paper} — feuille {sheet_index + 1}/{len(chunks)}",
                float(cfg.get("title_font_pt", 14)),
                font=FONT_BOLD,
            )
            y = top + 14
            _roll_row(p, left, y, row_h, columns, [c for c, _ in columns], font_pt, FONT_BOLD)
            for line in chunk:
                number += 1
                y += row_h
                cells = [str(number), registration_text(line.candidate), line.name, "", "", ""]
                _roll_row(p, left, y, row_h, columns, cells, font_pt, FONT)
            if sheet_index == len(chunks) - 1:
                p.text(
                    (left, y + row_h + 3, page_w - left - right, 8),
                    f"{len(roll)} inscrits, ....... présents, ....... absents"
                    "          Signature du surveillant :",
                    font_pt + 1,
                )
            canvas.showPage()
        canvas.save()


def _roll_row(
    p: _Page,
    left: float,
    y: float,
    height: float,
    columns: list[tuple[str, float]],
    cells: list[str],
    font_pt: float,
    font: str,
) -> None:
    x = left
    p.c.setLineWidth(0.5)
    for (_, width), cell in zip(columns, cells, strict=False):
        p.rect((x, y, width, height))
        if cell:
            p.text((x + 1.5, y, width - 3, height), cell, font_pt, font=font)
        x += width
