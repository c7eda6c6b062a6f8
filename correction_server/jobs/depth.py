"""How many jobs wait: for the health check, which a load balancer asks every few seconds."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.engine import Engine

from correction_server.db import make_engine
from correction_server.settings import Settings

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def queue_depth(settings: Settings) -> int | None:
    """Jobs waiting in the queue; None when the jobs run inside the server (no queue to count)."""
    if settings.jobs != "queue":
        return None
    with _lock:
        engine = _engines.get(settings.database_url)
        if engine is None:
            engine = _engines[settings.database_url] = make_engine(settings.database_url)
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            ).scalar_one()
        )
