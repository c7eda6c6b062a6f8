"""How an office decision on a candidate (a hold, its release, a copy declared missing) is kept:
with the name of who took it, and in the audit log, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.db import Base

OFFICE_NAME = "exam office"  # when no one is named: the office as a whole


def who(by_name: str) -> str:
    return (by_name or "").strip() or OFFICE_NAME


def keep_decision(
    session: Session, actor: audit.Actor, row: Base, action: str, registration: str, details: dict
) -> None:
    session.add(row)
    session.flush()
    audit.record(session, actor, action, "candidate", registration, details)
