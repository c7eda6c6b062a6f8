"""The paper's subject and model answer (corrigé): uploaded by the office, read by the paper's
correctors and coordinators beside the copy (fiche 5 §I.2; DOMAIN rules 7 and 17).

The PDF goes into the object store by its SHA-256 (an earlier upload stays there, only the
paper's pointer moves). A file is accepted only if it is a PDF: its header, and pikepdf opens it.
Who may read it is decided by `can_read` (auth.access rules: the office; a corrector or
coordinator assigned to the paper), so every route answers the same way.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime

import pikepdf
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.auth.access import can_see_paper
from correction_server.models import DocumentKind, Paper, PaperDocument, User
from correction_server.pages.store import ObjectStore
from massicot_core.errors import UserError

MAX_BYTES = 50 * 1024 * 1024
KIND_WORDS = {
    "subject": DocumentKind.SUBJECT,
    "sujet": DocumentKind.SUBJECT,
    "model_answer": DocumentKind.MODEL_ANSWER,
    "corrige": DocumentKind.MODEL_ANSWER,
    "corrigé": DocumentKind.MODEL_ANSWER,
}


def parse_kind(text: str) -> DocumentKind:
    kind = KIND_WORDS.get(text.strip().lower())
    if kind is None:
        raise UserError(
            f"{text!r} is not a document of a paper: say subject (sujet) or model_answer (corrigé)."
        )
    return kind


def check_pdf(data: bytes, name: str) -> None:
    if not data:
        raise UserError(f"{name} is empty: choose the PDF of the document.")
    if len(data) > MAX_BYTES:
        raise UserError(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB: send a lighter PDF.")
    if not data.lstrip()[:5] == b"%PDF-":
        raise UserError(f"{name} is not a PDF file: export the document as PDF, then send it again.")
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) == 0:
                raise UserError(f"{name} has no page.")
    except pikepdf.PdfError:
        raise UserError(f"{name} is a damaged PDF (it cannot be opened): export it again.") from None


def upload(
    session: Session,
    store: ObjectStore,
    actor: audit.Actor,
    by_name: str,
    paper_id: int,
    kind: DocumentKind,
    data: bytes,
    filename: str,
) -> PaperDocument:
    """Keep the PDF and point the paper's document at it; audited; commits."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise UserError(f"There is no paper {paper_id}.")
    check_pdf(data, filename or "the file")
    sha = store.put(data)
    document = session.scalar(
        select(PaperDocument).where(PaperDocument.paper_id == paper_id, PaperDocument.kind == kind)
    )
    before = document.sha256 if document else None
    if document is None:
        document = PaperDocument(paper_id=paper_id, kind=kind)
        session.add(document)
    document.sha256 = sha
    document.filename = (filename or f"{paper.code}-{kind.value}.pdf")[-200:]
    document.size = len(data)
    document.uploaded_at = datetime.now(UTC)
    document.uploaded_by = by_name[:200]
    session.flush()
    audit.record(
        session,
        actor,
        "paper.document",
        "paper",
        paper_id,
        {
            "kind": kind.value,
            "sha256": sha,
            "before": before,
            "filename": document.filename,
            "size": len(data),
        },
    )
    session.commit()
    forget_kinds(session)
    return document


def documents_of(session: Session, paper_id: int) -> list[PaperDocument]:
    return list(
        session.scalars(
            select(PaperDocument).where(PaperDocument.paper_id == paper_id).order_by(PaperDocument.kind)
        )
    )


def can_read(session: Session, user: User, paper_id: int) -> bool:
    """The office, and the correctors and coordinators of the paper; nobody else."""
    return can_see_paper(session, user, paper_id)


def document_for(session: Session, paper_id: int, kind: DocumentKind) -> PaperDocument | None:
    return session.scalar(
        select(PaperDocument).where(PaperDocument.paper_id == paper_id, PaperDocument.kind == kind)
    )


# Which documents each paper has, for the copy view (a hot route): kept per process a short
# while, so the copy view does not ask the database every time. An upload in this process
# forgets it at once; another process's upload shows within `_KINDS_TTL` seconds.
_KINDS_TTL = 30.0
_kinds: dict[tuple[int, int], tuple[float, tuple[str, ...]]] = {}
_kinds_lock = threading.Lock()


def _engine_key(session: Session) -> int:
    bind = session.get_bind()
    engine: Engine = bind.engine if hasattr(bind, "engine") else bind
    return id(engine)


def kinds_of(session: Session, paper_id: int) -> tuple[str, ...]:
    key = (_engine_key(session), paper_id)
    now = time.monotonic()
    with _kinds_lock:
        cached = _kinds.get(key)
    if cached is not None and now - cached[0] < _KINDS_TTL:
        return cached[1]
    found = tuple(
        sorted(
            k.value
            for k in session.scalars(select(PaperDocument.kind).where(PaperDocument.paper_id == paper_id))
        )
    )
    with _kinds_lock:
        if len(_kinds) > 2000:
            _kinds.clear()
        _kinds[key] = (now, found)
    return found


def forget_kinds(session: Session) -> None:
    engine = _engine_key(session)
    with _kinds_lock:
        for key in [k for k in _kinds if k[0] == engine]:
            del _kinds[key]
