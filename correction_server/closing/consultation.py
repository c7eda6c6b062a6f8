"""The candidate's consultation PDF: his scanned pages with the corrector's annotation layer drawn
over them (as vectors, the same shapes as the copy view draws), then the marks per question
and the appreciation. Asked by the office within the year after results, never under a hold;
each PDF handed over is in the audit log.

The scan itself is never changed: the upright page image is the one the corrector saw
(correction_server.page_images), placed on an A4 page, and the layer's items — stored as
fractions of that image — are drawn on top with reportlab. The PDF's words are the
catalogue's (closing.pdf.*), in French unless asked otherwise.
"""

from __future__ import annotations

import io
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.candidates import copy_of, find_candidate
from correction_server.closing.publication import consultation_open
from correction_server.closing.refusals import ClosingRefused
from correction_server.marking.reading import load_scheme
from correction_server.marking.rules import fmt
from correction_server.models import (
    AnnotationLayer,
    Candidate,
    Comment,
    CommentUse,
    Copy,
    JuryDecision,
    Marking,
    MarkingStatus,
    Page,
    Paper,
    PurgeRecord,
    QuestionMark,
)
from correction_server.pages import images as page_images
from correction_server.pages.store import ObjectStore
from massicot_core.files import sha256_bytes
from massicot_core.words import translate

# The copy view's colours (static/marking.js), so the PDF looks like what the corrector drew.
COLOURS = {"red": "#c8102e", "green": "#17803d", "blue": "#1f4fbf", "black": "#111111", "yellow": "#ffd400"}
DEFAULT_COLOUR = {"tick": "green", "highlight": "yellow"}
FOOTER = 22  # points kept under the page image for the page line
DISPLAY_WIDTH = 1400


def _colour(item: dict) -> HexColor:
    name = item.get("colour") or DEFAULT_COLOUR.get(item["kind"], "red")
    return HexColor(COLOURS.get(name, COLOURS["red"]))


def consultation_pdf(
    session: Session,
    store: ObjectStore,
    cache_dir: Path,
    paper_id: int,
    registration: str,
    actor: audit.Actor,
    by_name: str,
    now: datetime | None = None,
    lang: str = "fr",
) -> bytes:
    """The candidate's marked copy: each page with the annotation layer drawn over it, then the
    marks per question and the appreciation. Recorded in the audit log (who asked, which bytes)."""
    now = now or datetime.now(UTC)
    candidate = find_candidate(session, registration)
    copy = copy_of(session, paper_id, candidate)
    consultation_open(session, paper_id, candidate.id, now)
    if session.scalar(select(PurgeRecord.id).where(PurgeRecord.copy_id == copy.id)) is not None:
        raise ClosingRefused("closing.err.purged", copy=copy.id)
    first = session.scalar(select(Marking).where(Marking.copy_id == copy.id))
    if first is None or first.status != MarkingStatus.MARKED:
        raise ClosingRefused("closing.err.consult_unmarked", copy=copy.id)
    jury = session.scalar(
        select(JuryDecision).where(JuryDecision.copy_id == copy.id).order_by(JuryDecision.id.desc()).limit(1)
    )
    data = render_consultation(session, store, cache_dir, copy, candidate, first, jury, lang)
    audit.record(
        session,
        actor,
        "closing.consultation",
        "copy",
        copy.id,
        {"candidate": candidate.registration, "sha256": sha256_bytes(data), "by": by_name},
    )
    return data


def render_consultation(
    session: Session,
    store: ObjectStore,
    cache_dir: Path,
    copy: Copy,
    candidate: Candidate,
    first: Marking,
    jury: JuryDecision | None,
    lang: str = "fr",
) -> bytes:
    paper = session.get(Paper, copy.paper_id)
    pages = session.scalars(select(Page).where(Page.copy_id == copy.id).order_by(Page.position)).all()
    layers = {
        layer.page_id: layer.items or []
        for layer in session.scalars(select(AnnotationLayer).where(AnnotationLayer.marking_id == first.id))
    }
    comment_texts = dict(
        session.execute(
            select(Comment.id, Comment.text)
            .join(CommentUse, CommentUse.comment_id == Comment.id)
            .where(CommentUse.marking_id == first.id)
        ).all()
    )
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(translate(lang, "closing.pdf.title", paper=paper.code, copy=copy.id))
    pdf.setAuthor("Massicot")
    width, height = A4
    for n, page in enumerate(pages, start=1):
        derived = page_images.display_image(
            store, cache_dir, page.image_sha256, page.rotation, page.skew_degrees, DISPLAY_WIDTH
        )
        with Image.open(derived.path) as image:
            img_w, img_h = image.size
        scale = min(width / img_w, (height - FOOTER) / img_h)
        box_w, box_h = img_w * scale, img_h * scale
        left, bottom = (width - box_w) / 2, FOOTER + (height - FOOTER - box_h) / 2
        pdf.drawImage(str(derived.path), left, bottom, box_w, box_h)
        for item in layers.get(page.id, []):
            _draw_item(pdf, item, left, bottom + box_h, box_w, box_h, comment_texts)
        pdf.setFillColor(HexColor("#333333"))
        pdf.setFont("Helvetica", 9)
        footer = translate(lang, "closing.pdf.footer", paper=paper.code, copy=copy.id, n=n, pages=len(pages))
        pdf.drawString(36, 8, footer)
        pdf.showPage()
    _summary_page(session, pdf, paper, copy, candidate, first, jury, comment_texts, lang)
    pdf.save()
    return out.getvalue()


def _draw_item(pdf: Canvas, item: dict, left: float, top: float, w: float, h: float, texts: dict) -> None:
    """One annotation item; (x, y) fractions from the image's top left, PDF y grows upwards."""

    def at(fx: float, fy: float) -> tuple[float, float]:
        return left + fx * w, top - fy * h

    unit = w / 100
    colour = _colour(item)
    pdf.saveState()
    pdf.setStrokeColor(colour)
    pdf.setFillColor(colour)
    pdf.setLineCap(1)
    pdf.setLineJoin(1)
    kind = item["kind"]
    if kind == "tick":
        x, y = at(item["x"], item["y"])
        pdf.setLineWidth(unit * 0.6)
        path = pdf.beginPath()
        path.moveTo(x - 2 * unit, y)
        path.lineTo(x - 0.5 * unit, y - 2 * unit)
        path.lineTo(x + 2.5 * unit, y + 2 * unit)
        pdf.drawPath(path, stroke=1, fill=0)
    elif kind == "cross":
        x, y = at(item["x"], item["y"])
        s = 1.6 * unit
        pdf.setLineWidth(unit * 0.6)
        pdf.line(x - s, y - s, x + s, y + s)
        pdf.line(x - s, y + s, x + s, y - s)
    elif kind == "pen":
        points = [at(px, py) for px, py in item["points"]]
        pdf.setLineWidth(max(1.0, item.get("width", 0.003) * w))
        path = pdf.beginPath()
        path.moveTo(*points[0])
        for point in points[1:] or points:
            path.lineTo(*point)
        pdf.drawPath(path, stroke=1, fill=0)
    elif kind == "highlight":
        x, y = at(item["x"], item["y"])
        pdf.setFillAlpha(0.35)
        pdf.rect(x, y - item["h"] * h, item["w"] * w, item["h"] * h, stroke=0, fill=1)
    elif kind in ("text", "comment"):
        content = item["text"] if kind == "text" else texts.get(item["comment_id"], "")
        size = 2.2 * unit
        lines = textwrap.wrap(content, 38) or [""]
        x, y = at(item["x"], item["y"])
        box_w = max(pdf.stringWidth(line, "Helvetica", size) for line in lines) + 0.8 * unit
        box_h = len(lines) * size * 1.2 + 0.4 * unit
        pdf.setFillColor(HexColor("#fff6cc" if kind == "comment" else "#ffffff"))
        pdf.setFillAlpha(0.9)
        pdf.setLineWidth(0.7)
        pdf.rect(x - 0.4 * unit, y + size - box_h, box_w, box_h, stroke=1, fill=1)
        pdf.setFillAlpha(1)
        pdf.setFillColor(colour)
        pdf.setFont("Helvetica", size)
        for i, line in enumerate(lines):
            pdf.drawString(x, y - i * size * 1.2, line)
    pdf.restoreState()


def _summary_page(
    session: Session,
    pdf: Canvas,
    paper: Paper,
    copy: Copy,
    candidate: Candidate,
    first: Marking,
    jury: JuryDecision | None,
    texts: dict[int, str],
    lang: str,
) -> None:
    width, height = A4

    def say(key: str, **values: object) -> str:
        return translate(lang, f"closing.pdf.{key}", **values)

    y = height - 60

    def line(text: str, size: int = 11, bold: bool = False, gap: float = 16) -> None:
        nonlocal y
        if y < 60:
            pdf.showPage()
            y = height - 60
        pdf.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        pdf.drawString(56, y, text)
        y -= gap

    pdf.setFillColor(HexColor("#111111"))
    line(f"{paper.code} – {paper.title}", 16, True, 24)
    name = f"{candidate.surname} {candidate.given_names}"
    line(say("candidate", registration=candidate.registration, name=name))
    line(say("copy", copy=copy.id), gap=26)
    scheme = load_scheme(session, paper.id)
    points = {
        qm.question_id: qm.points
        for qm in session.scalars(select(QuestionMark).where(QuestionMark.marking_id == first.id))
    }
    line(say("per_question"), 13, True, 20)
    for q in scheme.questions:
        given = fmt(points.get(q.id)) if q.id in points else "–"
        line(say("question", label=q.label, points=given, max=fmt(q.max_points)))
    y -= 6
    if first.special is not None:
        line(say("special", mark=first.special.value), 13, True, 20)
    else:
        if not scheme.out_of_20:
            line(say("total", total=fmt(first.total), max=fmt(scheme.total)), 12, True)
        line(say("corrector_mark", mark=fmt(first.mark_20)), 13, True, 20)
    if jury is not None:
        line(say("jury_mark", mark=fmt(jury.mark_20)), 13, True, 20)
    y -= 6
    line(say("appreciation"), 13, True, 20)
    for paragraph in (first.appreciation or "").splitlines() or [""]:
        for part in textwrap.wrap(paragraph, 95) or [""]:
            line(part)
    under = session.scalars(
        select(CommentUse.comment_id)
        .where(CommentUse.marking_id == first.id, CommentUse.page_id.is_(None))
        .order_by(CommentUse.position)
    ).all()
    for comment_id in under:
        for part in textwrap.wrap("• " + texts.get(comment_id, ""), 95):
            line(part)
    pdf.showPage()
