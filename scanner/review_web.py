"""`massicot scan review DIR`: the lot's anomalies in the browser, with the page images, resolvable.

A small local web page for the centre's secretary, served on 127.0.0.1 only. Routes are thin:
what the page shows comes from scanner/report.py (`build_view`), and every form calls the
same service as `massicot scan resolve` (scanner/resolve.py), so a decision taken here is
journaled exactly as one taken on the command line (who, when, what).

The page shows originals (identity header included): it is for the centre, which holds the
roll with the candidates' names anyway; nothing here is ever served beyond this machine.
Forms carry a random token of this server run, and requests must name 127.0.0.1/localhost
as their host, so another web page open in the browser cannot post decisions to it.
"""

from __future__ import annotations

import secrets
import socket
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from massicot_core.errors import UserError
from scanner.grouping import Anomaly
from scanner.lot import Lot, PageRecord
from scanner.report import KIND_WORDS, LotView, build_view, summary_line

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
THUMB_WIDTH = 420  # pixels: enough to read a label or a page number, small enough to list many

# Which decisions make sense for each kind of anomaly (the CLI's actions, in scanner/resolve.py).
ACTIONS: dict[str, list[str]] = {
    "duplicate_page": ["discard", "assign"],
    "uncoded_page": ["confirm-annex", "assign", "discard"],
    "unreadable_code": ["assign", "discard"],
    "foreign_page": ["discard", "assign"],
    "no_label": ["label"],
    "duplicate_label": ["label"],
    "missing_page": ["rescan", "accept-incomplete"],
    "missing_copy": ["mark-absent", "mark-blank"],
    "unexpected_copy": ["admit", "label"],
    "absent_with_copy": ["mark-present", "mark-absent"],
}


@dataclass
class PageThumb:
    key: str
    source: str
    caption: str


@dataclass
class AnomalyItem:
    number: int
    anomaly: Anomaly
    kind_words: str
    actions: list[str]
    pages: list[PageThumb] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)  # copy ids to offer in "assign"


def _caption(record: PageRecord) -> str:
    a = record.analysis
    if a is None:
        return f"{record.source}: not analysed ({record.error or 'waiting'})"
    if a.blank:
        return f"{record.source}: blank"
    if a.copy_id is None:
        return f"{record.source}: no code"
    turned = f", turned {a.rotation}°" if a.rotation else ""
    return f"{record.source}: copy {a.copy_id} page {a.number}{turned}"


def anomaly_items(view: LotView) -> list[AnomalyItem]:
    """Each anomaly with the pages to look at and the decisions that fit it."""
    state = view.state
    by_source = {record.source: record for record in state.pages.values()}
    copies = sorted(view.grouping.copies)
    items = []
    for number, anomaly in enumerate(view.anomalies, start=1):
        pages: list[PageRecord] = []
        if anomaly.source and anomaly.source in by_source:
            pages.append(by_source[anomaly.source])
        if anomaly.kind == "duplicate_page" and anomaly.copy in view.grouping.copies:
            record = by_source.get(anomaly.source or "")
            twin = record.analysis.number if record and record.analysis else None
            for placed in view.grouping.copies[anomaly.copy].pages:
                if placed.number == twin and placed.page.source != anomaly.source:
                    pages.insert(0, by_source[placed.page.source])
        if not pages and anomaly.copy in view.grouping.copies:
            grouped = view.grouping.copies[anomaly.copy]
            first = grouped.first_page()
            chosen = (
                [first] if first and anomaly.kind in ("no_label", "duplicate_label") else grouped.ordered()
            )
            pages.extend(by_source[p.page.source] for p in chosen if p.page.source in by_source)
        items.append(
            AnomalyItem(
                number=number,
                anomaly=anomaly,
                kind_words=KIND_WORDS.get(anomaly.kind, anomaly.kind),
                actions=ACTIONS.get(anomaly.kind, ["discard"]),
                pages=[PageThumb(r.key, r.source, _caption(r)) for r in pages],
                copies=copies,
            )
        )
    return items


@dataclass
class NoticeItem:
    """Worth a look, not blocking (report.notices): the pages to look at, and whether the
    secretary can say the copy does carry answers (a copy read as blank or ABSENT)."""

    notice: dict
    pages: list[PageThumb]
    can_mark_written: bool


@dataclass
class DecisionItem:
    id: str
    at: str
    by: str
    action: str
    details: str


def notice_items(view: LotView) -> list[NoticeItem]:
    by_source = {record.source: record for record in view.state.pages.values()}
    items = []
    for notice in view.notices():
        records: list[PageRecord] = []
        if notice.get("source") in by_source:
            records.append(by_source[notice["source"]])
        elif notice.get("copy") in view.grouping.copies:
            ordered = view.grouping.copies[notice["copy"]].ordered()
            records.extend(by_source[p.page.source] for p in ordered if p.page.source in by_source)
        items.append(
            NoticeItem(
                notice=notice,
                pages=[PageThumb(r.key, r.source, _caption(r)) for r in records],
                can_mark_written=notice["kind"] in ("blank_copy", "absent_copy"),
            )
        )
    return items


def decision_items(state) -> list[DecisionItem]:
    """The decisions in force, newest first: each can be undone from the page."""
    from scanner.resolve import decision_details, live_decisions

    live = live_decisions(state)
    return [
        DecisionItem(d.fields.get("id", ""), d.at, d.by, d.action, decision_details(d))
        for d in reversed(live)
        if d.fields.get("id")
    ]


def thumbnail(lot: Lot, record: PageRecord) -> bytes:
    """A small upright JPEG of the original page (turned as its codes say)."""
    data = np.frombuffer((lot.folder / record.original).read_bytes(), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_4)
    if image is None:
        image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise HTTPException(404, "this page cannot be shown")
    turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    rotation = record.analysis.rotation if record.analysis else 0
    if rotation in turn:
        image = cv2.rotate(image, turn[rotation])
    height, width = image.shape[:2]
    if width > THUMB_WIDTH:
        image = cv2.resize(
            image, (THUMB_WIDTH, round(height * THUMB_WIDTH / width)), interpolation=cv2.INTER_AREA
        )
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise HTTPException(500, "the thumbnail could not be made")
    return encoded.tobytes()


def decide(lot: Lot, action: str, form: dict[str, str], by: str) -> str:
    """Call the resolve service for one submitted form; its plain-words answer is returned."""
    from scanner import resolve

    def need(name: str) -> str:
        value = (form.get(name) or "").strip()
        if not value:
            raise UserError(f"fill in '{name.replace('_', ' ')}' to {action.replace('-', ' ')}")
        return value

    def number(name: str) -> int | None:
        value = (form.get(name) or "").strip()
        if not value:
            return None
        if not value.isdigit():
            raise UserError(f"'{name}' must be a whole number, not {value!r}")
        return int(value)

    if action == "assign":
        return resolve.assign(lot, need("source"), need("copy"), number("page"), number("rotation"), by)
    if action == "discard":
        return resolve.discard(lot, need("source"), need("reason"), by)
    if action == "confirm-annex":
        return resolve.confirm_annex(lot, need("source"), by)
    if action == "label":
        return resolve.label(lot, need("copy"), need("candidate"), by)
    if action in ("mark-blank", "mark-absent", "mark-present", "mark-written"):
        return resolve.mark(lot, action, need("target"), by)
    if action == "undo":
        return resolve.undo(lot, need("decision"), need("reason"), by)
    if action == "rescan":
        return resolve.rescan(lot, need("copy"), by)
    if action == "accept-incomplete":
        return resolve.accept_incomplete(lot, need("copy"), need("reason"), by)
    if action == "admit":
        return resolve.admit(lot, need("candidate"), need("reason"), by)
    raise UserError(f"unknown action {action!r}")


def create_review_app(lot: Lot, by: str, allowed_hosts: set[str] | None = None) -> FastAPI:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html"]))
    token = secrets.token_urlsafe(24)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    hosts = allowed_hosts or {"127.0.0.1", "localhost"}

    @app.middleware("http")
    async def local_only(request: Request, call_next):
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in hosts:
            return Response("This page is served for this computer only.", status_code=403)
        return await call_next(request)

    @app.get("/", response_class=HTMLResponse)
    def page(said: str = "", error: str = "") -> HTMLResponse:
        view = build_view(lot.state())
        html = env.get_template("review.html").render(
            info=view.state.info,
            lot_dir=str(lot.folder),
            items=anomaly_items(view),
            notices=notice_items(view),
            decisions=decision_items(view.state),
            blocking=view.blocking(),
            unreadable=[(s, r) for s, r, acknowledged in view.unreadable if not acknowledged],
            summary=summary_line(view),
            sealed=view.state.sealed,
            said=said,
            error=error,
            token=token,
            by=by,
        )
        return HTMLResponse(html)

    @app.get("/page/{key}.jpg")
    def page_image(key: str) -> Response:
        record = lot.state().pages.get(key)
        if record is None:
            raise HTTPException(404, "no such page in this lot")
        return Response(
            thumbnail(lot, record), media_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )

    @app.post("/decide")
    async def post_decision(request: Request, action: str = Form(...), csrf: str = Form("")) -> Response:
        if not secrets.compare_digest(csrf, token):
            raise HTTPException(403, "this form is out of date: reload the page")
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            said, error = decide(lot, action, form, by), ""
        except UserError as exc:
            said, error = "", str(exc)
        from urllib.parse import urlencode

        return RedirectResponse("/?" + urlencode({"said": said, "error": error}), status_code=303)

    return app


def bind_local(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UserError(
            f"port {port} on 127.0.0.1 is not free ({exc.strerror}): choose another with --port"
        ) from None
    return sock


def serve_review(lot: Lot, *, port: int = 0, by: str | None = None, open_browser: bool = True) -> None:
    import uvicorn

    from scanner.resolve import default_actor

    sock = bind_local(port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    app = create_review_app(lot, by or default_actor())
    print(f"Review page: {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
