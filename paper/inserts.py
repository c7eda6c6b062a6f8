"""Printed insert sheets (intercalaires): graph paper, a lined answer sheet, an answer sheet with an
anonymity corner; coded in the booklet's corners with codes that say "insert".

An insert names no copy and has no identity header: it is handed out blank to whoever needs one
and slid inside the candidate's copy, which it joins when scanned (scanner.grouping). Each sheet
has its own id, so the same sheet scanned twice is caught. The `corner` kind is the subject's
own kind of answer sheet: its anonymity corner (name, registration number) is masked by the
station like a booklet's header.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from massicot_core.errors import UserError
from massicot_core.files import atomic_output
from massicot_core.identifiers import CORNERS, INSERT_KINDS, InsertCode
from paper.copy_model import CopyModel, load_model
from paper.printing import FONT, FONT_BOLD, MAX_BOOKLETS, _answer_area, _Page, _settings, check_paper_format

# What the sheet says it is, printed on it (candidates read French).
KIND_TITLES = {
    "graph": "papier millimétré",
    "lined": "feuille de réponse",
    "corner": "document réponse",
}
CORNER_CAPTION = "Nom, prénom, n° d'inscription — ce coin sera masqué avant la correction"
GRAPH_PITCH_MM = 5.0


def check_insert_kind(kind: str) -> str:
    if kind not in INSERT_KINDS:
        raise UserError(f"insert kind {kind!r} is not known: use one of {', '.join(INSERT_KINDS)}")
    return kind


def insert_title(paper: str, kind: str, insert_id: str) -> str:
    return f"Épreuve {paper} — intercalaire ({KIND_TITLES[kind]}) — n° {insert_id}"


def _graph(p: _Page, model: CopyModel) -> None:
    x, y, w, h = model.insert_answer
    c = p.c
    c.setLineWidth(0.25)
    c.setStrokeGray(0.8)
    steps_x, steps_y = int(w // GRAPH_PITCH_MM), int(h // GRAPH_PITCH_MM)
    for i in range(steps_x + 1):
        c.line((x + i * GRAPH_PITCH_MM) * mm, p.y(y), (x + i * GRAPH_PITCH_MM) * mm, p.y(y + h))
    for j in range(steps_y + 1):
        c.line(x * mm, p.y(y + j * GRAPH_PITCH_MM), (x + w) * mm, p.y(y + j * GRAPH_PITCH_MM))
    c.setStrokeGray(0)


def _corner(p: _Page, model: CopyModel, settings: dict) -> None:
    x, y, w, h = model.insert_corner
    c = p.c
    c.setLineWidth(0.8)
    p.rect(model.insert_corner)
    c.setFillGray(0.35)
    p.text((x + 2, y + 0.5, w - 4, 3), CORNER_CAPTION, float(settings.get("header_caption_font_pt", 7)))
    c.setFillGray(0)


def insert_page(p: _Page, model: CopyModel, paper: str, insert_id: str, kind: str) -> None:
    settings = _settings(model)
    if kind == "graph":
        _graph(p, model)
    else:
        _answer_area(p, model.insert_answer, settings)
    if kind == "corner":
        _corner(p, model, settings)
    for corner in CORNERS:
        p.code(model.codes[corner], InsertCode(paper, insert_id, kind, corner).payload())
    p.text(
        model.title_line,
        insert_title(paper, kind, insert_id),
        float(settings.get("title_font_pt", 11)),
        font=FONT_BOLD,
        align="centre",
    )
    p.c.setFont(FONT, 8)


def inserts_pdf(
    paper: str, inserts: Sequence[tuple[str, str]], out: Path, model: CopyModel | None = None
) -> None:
    """One page per (insert id, kind), single-sided: an insert is a loose sheet."""
    model = model or load_model()
    check_paper_format(paper)
    if not 1 <= len(inserts) <= MAX_BOOKLETS:
        raise UserError(f"--count must be between 1 and {MAX_BOOKLETS} insert sheets, not {len(inserts)}")
    for _, kind in inserts:
        check_insert_kind(kind)
    size = (model.page_mm[0] * mm, model.page_mm[1] * mm)
    with atomic_output(out) as tmp:
        canvas = Canvas(str(tmp), pagesize=size, pageCompression=1)
        canvas.setTitle(f"Intercalaires {paper}")
        canvas.setCreator("Massicot")
        for insert_id, kind in inserts:
            insert_page(_Page(canvas, model.page_mm), model, paper, insert_id, kind)
            canvas.showPage()
        canvas.save()
