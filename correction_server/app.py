"""The FastAPI application: routes are thin, services in correction_server/*.py do the work.

Each area mounts its router here: api/ for machine clients (scan stations),
web/ for the browser pages.
"""

from __future__ import annotations

import sys

from fastapi import FastAPI

from correction_server.db import make_engine, make_session_factory
from correction_server.settings import Settings

SWITCH_INTERVAL = 0.001  # seconds


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    # Request threads mostly wait for the database. When an answer arrives, the waiting thread
    # needs the interpreter back; by default it may wait 5 ms of another thread's work each
    # time, and a save holds the audit log's append lock across several such waits, which
    # makes every other save wait too. A 1 ms switch interval keeps that lock short.
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = FastAPI(
        title="Massicot correction server",
        version="0.1.0",
        description="Receives sealed lots from scan stations; correctors mark anonymised copies.",
    )
    app.state.settings = settings
    # One engine per process, shared by every router (see correction_server.access.db_session).
    app.state.session_factory = make_session_factory(make_engine(settings.database_url))
    from correction_server.api.ingest import install as install_ingest

    install_ingest(app)
    from correction_server.web import install as install_web

    install_web(app)
    return app
