"""Who does something on the server, as the audit log records it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: str  # "office", "corrector", ... or "system" for commands run by the office on the server


SYSTEM = Actor(user_id=None, role="system")


def actor_of(user: Any) -> Actor:
    """The account acting (any object with `id` and a `role` enum, such as models.User)."""
    return Actor(user.id, user.role.value)
