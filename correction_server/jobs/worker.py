"""`massicot worker`: runs the queued jobs, on this host or any other that reaches the database."""

from __future__ import annotations

import logging
import os

from correction_server.jobs import queue
from correction_server.jobs.tasks import register
from correction_server.settings import Settings

log = logging.getLogger(__name__)


def run_worker(
    settings: Settings, concurrency: int = 2, queues: tuple[str, ...] = queue.QUEUES, nice: int = 10
) -> None:
    """Until SIGTERM or Ctrl-C: a job taken by this worker is taken by no other (procrastinate
    locks it in the database); a worker stopped mid-job leaves it for `procrastinate`'s stalled
    jobs, retried by the next worker for rendering.

    `nice`: the worker's jobs (rendering above all) wait for the CPU while a server process on
    the same host has requests to answer, as the one-host renderer does; alone on its host it
    loses nothing."""
    if nice:
        os.nice(nice)
    app = queue.worker_app(settings.database_url)
    register(app, settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app.run_worker(queues=list(queues), concurrency=concurrency, install_signal_handlers=True)
