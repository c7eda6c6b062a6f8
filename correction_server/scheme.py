"""The marking scheme (barème) is locked once the standardisation meeting has fixed how it applies.

Before the lock no mark is accepted; after it the scheme cannot be re-imported or changed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from correction_server.audit import Actor, record
from correction_server.models import Paper
from massicot.errors import UserError


def lock_scheme(session: Session, paper: Paper, actor: Actor) -> datetime:
    if paper.scheme_locked_at is not None:
        raise UserError(
            f"the barème of {paper.code} is already locked since {paper.scheme_locked_at:%Y-%m-%d %H:%M} UTC"
        )
    if not paper.questions:
        raise UserError(
            f"paper {paper.code} has no barème yet: import it with `massicot office import paper`"
        )
    paper.scheme_locked_at = datetime.now(UTC)
    record(
        session,
        actor,
        "scheme.lock",
        "paper",
        paper.code,
        {"questions": [[q.label, str(q.max_points), str(q.step)] for q in paper.questions]},
    )
    return paper.scheme_locked_at
