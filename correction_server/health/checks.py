"""Each part a request needs, asked whether it answers now, within a short deadline.

The checks run at once in a small pool of their own: a part that hangs (a database host that
dropped off the network) makes the answer wait `DEADLINE` seconds at most, and the pool's size
bounds the threads such a part can hold.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from correction_server.jobs import queue_depth
from correction_server.pages.objects import ObjectStore
from correction_server.settings import Settings

# Seconds a part has to answer; a health probe runs every few seconds.
DEADLINE = 3.0
DATABASE, STORE, JOBS = "database", "store", "jobs"

_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


@dataclass(frozen=True)
class Health:
    database: bool
    store: bool
    # Jobs waiting in the queue; None when this installation has no queue (or it cannot say).
    queue_depth: int | None
    jobs: bool = True

    @property
    def failing(self) -> list[str]:
        parts = {DATABASE: self.database, STORE: self.store, JOBS: self.jobs}
        return [name for name, fine in parts.items() if not fine]

    @property
    def ok(self) -> bool:
        return not self.failing

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failing",
            "database": "ok" if self.database else "failing",
            "store": "ok" if self.store else "failing",
            "queue_depth": self.queue_depth,
            "failing": self.failing,
        }


def check(settings: Settings, session_factory: sessionmaker[Session], store: ObjectStore) -> Health:
    database = _pool.submit(database_answers, session_factory)
    stored = _pool.submit(store.reachable, DEADLINE)
    depth = _pool.submit(queue_depth, settings, session_factory)
    jobs_fine, depth_value = True, None
    try:
        depth_value = depth.result(timeout=DEADLINE)
    except Exception:  # noqa: BLE001 - the queue could not say: it is failing
        jobs_fine = False
    return Health(
        database=_answer(database.result, DEADLINE),
        store=_answer(stored.result, DEADLINE),
        queue_depth=depth_value,
        jobs=jobs_fine,
    )


def _answer(result: Callable[..., bool], timeout: float) -> bool:
    try:
        return bool(result(timeout=timeout))
    except FutureTimeout:
        return False
    except Exception:  # noqa: BLE001 - any failure of the part means it does not answer
        return False


def database_answers(session_factory: sessionmaker[Session]) -> bool:
    """`SELECT 1`, bounded by a statement timeout on PostgreSQL (SQLite answers or fails at once)."""
    with session_factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            # SET takes no bound parameter; the value is this module's own number.
            session.execute(text(f"SET LOCAL statement_timeout = {int(DEADLINE * 1000)}"))
        return session.execute(text("SELECT 1")).scalar_one() == 1

