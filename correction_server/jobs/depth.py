"""How many jobs wait: for the health check, which a load balancer asks every few seconds."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from correction_server.settings import Settings


def queue_depth(settings: Settings, session_factory: sessionmaker[Session]) -> int | None:
    """Jobs waiting in the queue; None when the jobs run inside the server (no queue to count)."""
    if settings.jobs != "queue":
        return None
    with session_factory() as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            ).scalar_one()
        )
