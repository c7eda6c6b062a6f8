"""The paper's subject and model answer (corrigé), for its correctors and coordinators only."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


class DocumentKind(enum.StrEnum):
    SUBJECT = "subject"
    MODEL_ANSWER = "model_answer"


class PaperDocument(Base):
    """A PDF kept in the object store by its SHA-256; uploading again replaces the row's pointer."""

    __tablename__ = "paper_document"
    __table_args__ = (UniqueConstraint("paper_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(
        Enum(DocumentKind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")
