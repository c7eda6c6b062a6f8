"""The procrastinate application: the PostgreSQL job queue shared by every host.

Task names and queues are fixed here, so a server process that only defers jobs (and never
imports the task functions) and a worker that runs them agree on them.
"""

from __future__ import annotations

from typing import Any

import procrastinate
from sqlalchemy.engine import make_url

from massicot_core.errors import UserError

RENDER_TASK = "massicot.render_pages"
OFFICE_TASK = "massicot.office_action"
RENDER_QUEUE = "render"
OFFICE_QUEUE = "office"
QUEUES = (RENDER_QUEUE, OFFICE_QUEUE)
# A page whose rendering failed (a store that did not answer, a killed process) is tried again
# after 2, 4, 8, 16 s; an office action is never re-run on its own: its outcome says what
# happened, and the office decides.
RENDER_RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2)


def conninfo(database_url: str) -> str:
    """The libpq address of the server's database (SQLAlchemy's URL without its driver)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise UserError(
            "The job queue needs PostgreSQL (MASSICOT_DB=postgresql+psycopg://...). With SQLite, "
            "leave MASSICOT_JOBS unset: the jobs then run inside the server."
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def deferring_app(database_url: str) -> procrastinate.App:
    """An application that only puts jobs in the queue, from synchronous code (the routes)."""
    connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=4)
    return procrastinate.App(connector=connector)


def worker_app(database_url: str) -> procrastinate.App:
    """An application that runs jobs: `massicot worker` (tasks registered by jobs.tasks)."""
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    return procrastinate.App(connector=connector)


def defer(app: procrastinate.App, task: str, queue: str, **arguments: Any) -> int:
    return app.configure_task(task, queue=queue).defer(**arguments)
