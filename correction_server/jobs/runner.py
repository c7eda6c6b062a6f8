"""Where a job leaves the request: `Jobs`, the one runner a server process holds.

`InProcessJobs` (the default, one host): display images by the server's own renderer process
(pages.rendering.BackgroundRenderer), office actions in a thread; what a stopped server left
undone is found again at its next start (pages without their image) or said on the action's
page. `QueuedJobs` (`MASSICOT_JOBS=queue`): both go into the PostgreSQL queue, for
`massicot worker` on any host; the server renders nothing itself.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from correction_server.jobs import queue
from correction_server.jobs.tasks import looks_to_json, run_office_action
from correction_server.office.console_work import WorkContext
from correction_server.pages.images import PageLook
from correction_server.pages.objects import ObjectStore
from correction_server.settings import Settings

# Pages per rendering job: a job of a few seconds, so that a lot of 2,000 pages spreads over
# every worker and a failed job re-renders little.
PAGES_PER_JOB = 32


class Jobs(Protocol):
    def render(self, looks: list[PageLook]) -> None: ...

    def office_action(self, action_id: int, kind: str, params: dict[str, Any], lang: str) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def pending_renders(self) -> int: ...


class InProcessJobs:
    def __init__(
        self, settings: Settings, session_factory: sessionmaker[Session], store: ObjectStore
    ) -> None:
        self.context = WorkContext(session_factory, store, settings)
        self.renderer = None

    def start(self) -> None:
        from correction_server.pages.rendering import BackgroundRenderer

        settings = self.context.settings
        self.renderer = BackgroundRenderer(
            settings.store_path, self.context.session_factory, store_url=settings.store_url
        ).start()

    def stop(self) -> None:
        renderer, self.renderer = self.renderer, None
        if renderer is not None:
            renderer.stop()

    def render(self, looks: list[PageLook]) -> None:
        # Without a renderer (outside the application's life), images are made on first view.
        if self.renderer is not None:
            self.renderer.submit(looks)

    def pending_renders(self) -> int:
        return self.renderer.pending() if self.renderer is not None else 0

    def office_action(self, action_id: int, kind: str, params: dict[str, Any], lang: str) -> None:
        threading.Thread(
            target=run_office_action,
            args=(self.context, action_id, kind, params, lang),
            name="office-action",
            daemon=True,
        ).start()


class QueuedJobs:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = queue.deferring_app(settings.database_url)
        self._opened = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self._open()

    def stop(self) -> None:
        with self._lock:
            if self._opened:
                self.app.close()
                self._opened = False

    def _open(self) -> None:
        with self._lock:
            if not self._opened:
                self.app.open()
                self._opened = True

    def render(self, looks: list[PageLook]) -> None:
        # Called after the lot's commit: a job lost here (the database gone at that instant) is a
        # page made on first view, and found again by `massicot office render-pages`.
        self._open()
        for start in range(0, len(looks), PAGES_PER_JOB):
            chunk = looks_to_json(looks[start : start + PAGES_PER_JOB])
            queue.defer(self.app, queue.RENDER_TASK, queue.RENDER_QUEUE, looks=chunk)

    def pending_renders(self) -> int:
        return 0  # counted by the health check, from the queue's table

    def office_action(self, action_id: int, kind: str, params: dict[str, Any], lang: str) -> None:
        self._open()
        queue.defer(
            self.app,
            queue.OFFICE_TASK,
            queue.OFFICE_QUEUE,
            action_id=action_id,
            kind=kind,
            params=params,
            lang=lang,
        )


def open_jobs(settings: Settings, session_factory: sessionmaker[Session], store: ObjectStore) -> Jobs:
    """The runner the settings ask for (`Settings.jobs`)."""
    if settings.jobs == "queue":
        return QueuedJobs(settings)
    return InProcessJobs(settings, session_factory, store)
