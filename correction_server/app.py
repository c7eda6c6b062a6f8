"""The FastAPI application: builds the process's parts once and mounts every area's routes.

Routes are thin: they take what they need from `correction_server.deps`, ask their area's
services, and render. intake/ serves the scan stations' API; the other areas browser pages.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from correction_server.auth import web as auth_web
from correction_server.auth.login_limit import LoginRateLimiter
from correction_server.auth.sessions import has_signed_login
from correction_server.auth.tokens import TokenCache
from correction_server.candidate_space import office_web as candidate_office_web
from correction_server.candidate_space import web as candidate_web
from correction_server.closing import jury_web
from correction_server.closing import web as closing_web
from correction_server.coordination import harmonisation_web, standardisation_web
from correction_server.coordination import web as coordination_web
from correction_server.db import make_engine, make_session_factory
from correction_server.deps import ServerParts, bounded_ids
from correction_server.deps import install as install_parts
from correction_server.dispatch import web as dispatch_web
from correction_server.health import web as health_web
from correction_server.i18n import register_words
from correction_server.intake import web as intake_web
from correction_server.intake.ingest import IngestService
from correction_server.intake.uploads import MAX_CHUNK_BYTES
from correction_server.jobs.runner import open_jobs
from correction_server.marking import flags_web as marking_flags_web
from correction_server.marking import web as marking_web
from correction_server.office import console_web as office_console_web
from correction_server.office import rules_web as office_rules_web
from correction_server.office import session_web as office_session_web
from correction_server.office import web as office_web
from correction_server.pages.store import open_store
from correction_server.settings import Settings
from correction_server.web import docs, home
from correction_server.web.errors import install as install_errors
from correction_server.web.guard import RequestGuard
from correction_server.web.rendering import STATIC_DIR
from correction_server.web.timing import ServerTiming
from correction_server.web.timing import enabled as timing_enabled

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
    parts: ServerParts = app.state.parts
    # Display images are made when lots arrive (and, at start, for pages left without one), by
    # this process's renderer or by the queue's workers (correction_server.jobs).
    await anyio.to_thread.run_sync(parts.jobs.start)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(parts.jobs.stop)


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
        # The API description is served by web/docs.py: to the office only, from this server.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(bounded_ids)],
    )
    register_words()
    # One engine per process, shared by every router (see correction_server.deps.db_session).
    session_factory = make_session_factory(make_engine(settings.database_url))
    store = open_store(settings.store_location)
    parts = ServerParts(
        settings=settings,
        session_factory=session_factory,
        store=store,
        # Its counts are in the database; the object holds only the ceilings and the clock.
        login_limiter=LoginRateLimiter(),
        ingest=IngestService(
            session_factory,
            store,
            settings.max_page_bytes,
            on_received=lambda looks: parts.jobs.render(looks),
        ),
        token_cache=TokenCache(),
        jobs=open_jobs(settings, session_factory, store),
    )
    install_parts(app, parts)
    install_errors(app)
    # Routes are matched in order: the marking routes, most of a correction evening's requests,
    # first (their paths share no prefix with the others).
    for router in (
        marking_web.router,
        intake_web.router,
        home.router,
        auth_web.router,
        dispatch_web.router,
        office_web.router,
        office_console_web.router,
        office_session_web.router,
        coordination_web.router,
        standardisation_web.router,
        closing_web.router,
        marking_flags_web.router,
        office_rules_web.router,
        candidate_web.router,
        candidate_office_web.router,
        docs.router,
        jury_web.router,
        harmonisation_web.router,
        health_web.router,
    ):
        app.include_router(router)
    docs.mount_assets(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if timing_enabled():
        app.add_middleware(ServerTiming)
    # Outermost: the peer, the body's size and the security headers (web/guard.py).
    app.add_middleware(
        RequestGuard,
        trusted_proxies=settings.trusted_proxies,
        chunk_bytes=MAX_CHUNK_BYTES,
        has_login=lambda cookies: has_signed_login(cookies, settings.secret_key),
    )
    return app
