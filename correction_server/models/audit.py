"""The audit log: every change of a mark, comment, annotation, assignment, hold or export.

Each entry carries the SHA-256 of the previous one (a hash chain). `prev_hash` is unique, so
two writers can never fork the chain: the second one fails and retries on the new head.
Triggers (see migration 0004_audit) refuse UPDATE and DELETE for every role.
"""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    # ISO 8601 UTC text, hashed as stored: no precision is lost in a database round trip.
    at: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
