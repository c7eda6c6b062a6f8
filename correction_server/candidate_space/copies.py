"""The candidate's copy as the corrector saw it: the upright page images, the annotation layer
drawn over them (SVG, the same shapes and colours as the consultation PDF), the marks per
question, the appreciation; the consultation PDF to download.

Copies are named in the candidate's URLs by an opaque token (an HMAC of the copy id under the
server's secret), never by the copy id: the anonymity number of a copy is worth nothing to a
guesser, and a token is looked for among the candidate's OWN copies only, so a guessed or
borrowed token gets exactly the answer of one that does not exist (auth.access.NOT_YOURS).
The corrector is never named anywhere here.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi import HTTPException
from markupsafe import Markup, escape
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.audit.actors import actor_of
from correction_server.auth.access import NOT_YOURS
from correction_server.candidate_space.results import (
    Access,
    Result,
    access_of,
    copy_facts,
    own_copy_id,
    result_text,
)
from correction_server.closing.consultation import COLOURS, DEFAULT_COLOUR, render_consultation
from correction_server.marking.reading import load_scheme
from correction_server.marking.rules import fmt
from correction_server.models import (
    AnnotationLayer,
    Candidate,
    Comment,
    CommentUse,
    Copy,
    Marking,
    Page,
    Paper,
    PurgeRecord,
    QuestionMark,
    RollEntry,
    User,
)
from correction_server.pages import images as page_images
from correction_server.pages.store import ObjectStore
from massicot_core.errors import Refused
from massicot_core.files import sha256_bytes

TOKEN_LENGTH = 32  # hex characters: 128 bits
CANDIDATE_WIDTH = 1400
DOWNLOADED = "candidate.consultation_pdf"


def copy_token(secret_key: str, copy_id: str) -> str:
    return hmac.new(secret_key.encode(), b"candidate-copy:" + copy_id.encode(), hashlib.sha256).hexdigest()[
        :TOKEN_LENGTH
    ]


def not_found() -> HTTPException:
    return HTTPException(status_code=404, detail=NOT_YOURS)


@dataclass(frozen=True)
class OwnCopy:
    copy: Copy
    paper: Paper
    marking: Marking
    result: Result
    published_at: datetime | None
    closes_at: datetime | None


def open_own_copy(
    session: Session, candidate: Candidate, secret_key: str, token: str, now: datetime | None = None
) -> OwnCopy:
    """The candidate's own marked copy behind `token`, while he may see it; else the 404 of
    "does not exist" (another's token, a guess, a held result, an unpublished or closed paper)."""
    now = now or datetime.now(UTC)
    paper_ids = session.scalars(
        select(RollEntry.paper_id).where(RollEntry.candidate_id == candidate.id)
    ).all()
    for paper_id in paper_ids:
        copy_id = own_copy_id(session, candidate.id, paper_id)
        if copy_id is None or not hmac.compare_digest(copy_token(secret_key, copy_id), token or ""):
            continue
        access, published, closes = access_of(session, candidate.id, paper_id, now)
        facts, first, _ = copy_facts(session, copy_id)
        purged = session.scalar(select(PurgeRecord.id).where(PurgeRecord.copy_id == copy_id)) is not None
        if access != Access.OPEN or not facts.marked or first is None or purged:
            raise not_found()
        return OwnCopy(
            session.get(Copy, copy_id),
            session.get(Paper, paper_id),
            first,
            result_text(facts),
            published,
            closes,
        )
    raise not_found()


@dataclass(frozen=True)
class PageView:
    position: int
    width: int
    height: int
    layer: Markup  # the SVG shapes over the page, in image pixels


@dataclass(frozen=True)
class CopyView:
    token: str
    paper_code: str
    paper_title: str
    result: Result
    pages: list[PageView]
    questions: list[dict[str, str]]
    total: str | None
    appreciation: str
    comments: list[str] = field(default_factory=list)
    closes_at: datetime | None = None


def _colour(item: dict) -> str:
    name = item.get("colour") or DEFAULT_COLOUR.get(item["kind"], "red")
    return COLOURS.get(name, COLOURS["red"])


def _element(tag: str, content: str = "", **attrs: object) -> str:
    """One SVG element; attribute names with _ become -, values are escaped."""

    def shown(value: object) -> object:
        return f"{value:.1f}" if isinstance(value, float) else value

    text = " ".join(f'{name.rstrip("_").replace("_", "-")}="{escape(shown(v))}"' for name, v in attrs.items())
    return f"<{tag} {text}>{escape(content)}</{tag}>"


def layer_svg(items: list[dict], w: int, h: int, texts: dict[int, str]) -> Markup:
    """The annotation items as SVG shapes in a w×h image's pixels (items are fractions of it)."""
    unit = w / 100
    out: list[str] = []
    for item in items:
        colour = _colour(item)
        kind = item.get("kind")
        line = {"stroke": colour, "stroke_linecap": "round", "stroke_linejoin": "round", "fill": "none"}
        if kind in ("tick", "cross"):
            x, y = item["x"] * w, item["y"] * h
            if kind == "tick":
                corners = ((x - 2 * unit, y), (x - 0.5 * unit, y + 2 * unit), (x + 2.5 * unit, y - 2 * unit))
                d = "M" + "L".join(f"{px:.1f} {py:.1f}" for px, py in corners)
            else:
                s = 1.6 * unit
                a, b = (
                    f"{x - s:.1f} {y - s:.1f}L{x + s:.1f} {y + s:.1f}",
                    f"{x - s:.1f} {y + s:.1f}L{x + s:.1f} {y - s:.1f}",
                )
                d = f"M{a}M{b}"
            out.append(_element("path", class_=f"ann {kind}", d=d, stroke_width=unit * 0.6, **line))
        elif kind == "pen":
            points = " ".join(f"{px * w:.1f},{py * h:.1f}" for px, py in item["points"])
            width = max(1.0, item.get("width", 0.003) * w)
            out.append(_element("polyline", class_="ann pen", points=points, stroke_width=width, **line))
        elif kind == "highlight":
            box = {"x": item["x"] * w, "y": item["y"] * h, "width": item["w"] * w, "height": item["h"] * h}
            out.append(_element("rect", class_="ann highlight", fill=colour, fill_opacity="0.35", **box))
        elif kind in ("text", "comment"):
            content = item.get("text", "") if kind == "text" else texts.get(item.get("comment_id"), "")
            size = 2.2 * unit
            out.append(
                _element(
                    "text",
                    content,
                    class_=f"ann {kind}",
                    x=item["x"] * w,
                    y=item["y"] * h + size,
                    font_size=size,
                    fill=colour,
                    stroke="#ffffff",
                    stroke_width=size * 0.15,
                    paint_order="stroke",
                )
            )
    return Markup("".join(out))


def page_size(store: ObjectStore, cache_dir: Path, page: Page) -> tuple[int, int]:
    """The display image's size (made now if it was not yet: the image route then answers at once)."""
    derived = page_images.display_image(
        store, cache_dir, page.image_sha256, page.rotation, page.skew_degrees, CANDIDATE_WIDTH
    )
    with Image.open(derived.path) as image:
        return image.size


def copy_view(session: Session, store: ObjectStore, cache_dir: Path, own: OwnCopy, token: str) -> CopyView:
    first = own.marking
    pages = session.scalars(select(Page).where(Page.copy_id == own.copy.id).order_by(Page.position)).all()
    layers = {
        layer.page_id: layer.items or []
        for layer in session.scalars(select(AnnotationLayer).where(AnnotationLayer.marking_id == first.id))
    }
    texts = dict(
        session.execute(
            select(Comment.id, Comment.text)
            .join(CommentUse, CommentUse.comment_id == Comment.id)
            .where(CommentUse.marking_id == first.id)
        ).all()
    )
    views = []
    for page in pages:
        if not store.has(page.image_sha256):
            continue
        w, h = page_size(store, cache_dir, page)
        views.append(PageView(page.position, w, h, layer_svg(layers.get(page.id, []), w, h, texts)))
    scheme = load_scheme(session, own.paper.id)
    points = {
        qm.question_id: qm.points
        for qm in session.scalars(select(QuestionMark).where(QuestionMark.marking_id == first.id))
    }
    questions = [
        {"label": q.label, "points": fmt(points.get(q.id)), "max": fmt(q.max_points)}
        for q in scheme.questions
    ]
    under = session.scalars(
        select(CommentUse.comment_id)
        .where(CommentUse.marking_id == first.id, CommentUse.page_id.is_(None))
        .order_by(CommentUse.position)
    ).all()
    total = (
        None if first.special is not None or scheme.out_of_20 else f"{fmt(first.total)} / {fmt(scheme.total)}"
    )
    return CopyView(
        token,
        own.paper.code,
        own.paper.title,
        own.result,
        views,
        questions,
        total,
        first.appreciation or "",
        [texts.get(c, "") for c in under],
        own.closes_at,
    )


def own_page_look(session: Session, own: OwnCopy, position: int) -> page_images.PageLook:
    page = session.scalar(select(Page).where(Page.copy_id == own.copy.id, Page.position == position))
    if page is None:
        raise not_found()
    return page_images.PageLook(page.image_sha256, page.rotation, page.skew_degrees)


def own_copy_pdf(
    session: Session,
    store: ObjectStore,
    cache_dir: Path,
    own: OwnCopy,
    candidate: Candidate,
    user: User,
    lang: str,
) -> bytes:
    """The consultation PDF of closing.consultation, the candidate's own; in the audit log. Caller commits."""
    _, first, jury = copy_facts(session, own.copy.id)
    shas = session.scalars(select(Page.image_sha256).where(Page.copy_id == own.copy.id)).all()
    if not all(store.has(sha) for sha in shas):
        raise Refused(404, "candidate.err.images_gone")
    data = render_consultation(session, store, cache_dir, own.copy, candidate, first, jury, lang)
    audit.record(
        session,
        actor_of(user),
        DOWNLOADED,
        "copy",
        own.copy.id,
        {"candidate": candidate.registration, "sha256": sha256_bytes(data)},
    )
    return data
