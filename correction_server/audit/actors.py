"""Who does something on the server, as the audit log records it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: str  # "office", "corrector", ... or "system" for commands run by the office on the server


SYSTEM = Actor(user_id=None, role="system")
