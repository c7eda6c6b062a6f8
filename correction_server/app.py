"""The FastAPI application: routes are thin, services in correction_server/*.py do the work.

Each area mounts its router here: api/ for machine clients (scan stations),
web/ for the browser pages.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from correction_server.db import make_engine, make_session_factory
from correction_server.settings import Settings

SWITCH_INTERVAL = 0.001  # seconds


# Sync routes run in a pool of worker threads. Each waits for the database most of its time,
# but every extra thread is one more contender for the interpreter lock: a handful per process
# serves a correction evening's load (measured with bench/marking_load.py); more only lengthen
# each request's waits. MASSICOT_THREADS overrides it.
DEFAULT_THREADS = 12


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    threads = int(os.environ.get("MASSICOT_THREADS") or DEFAULT_THREADS)
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    from correction_server.pages.rendering import BackgroundRenderer

    # Display images are made when lots arrive (and, at start, for pages left without one).
    renderer = BackgroundRenderer(app.state.settings.store_path, app.state.session_factory).start()
    app.state.page_renderer = renderer
    try:
        yield
    finally:
        app.state.page_renderer = None
        await anyio.to_thread.run_sync(renderer.stop)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    # Request threads mostly wait for the database. When an answer arrives, the waiting thread
    # needs the interpreter back; by default it may wait 5 ms of another thread's work each
    # time, and a save holds the audit log's append lock across several such waits, which
    # makes every other save wait too. A 1 ms switch interval keeps that lock short.
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = FastAPI(
        lifespan=_lifespan,
        title="Massicot correction server",
        version="0.1.0",
        description="Receives sealed lots from scan stations; correctors mark anonymised copies.",
    )
    app.state.settings = settings
    # One engine per process, shared by every router (see correction_server.access.db_session).
    app.state.session_factory = make_session_factory(make_engine(settings.database_url))
    from correction_server.intake.web import install as install_ingest

    install_ingest(app)
    from correction_server.web import install as install_web

    install_web(app)
    return app
