"""The FastAPI application: routes are thin, services in correction_server/*.py do the work.

Each area mounts its router here: api/ for machine clients (scan stations),
web/ for the browser pages.
"""

from __future__ import annotations

from fastapi import FastAPI

from correction_server.db import make_engine, make_session_factory
from correction_server.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
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
