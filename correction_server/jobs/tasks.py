"""What a job does, whichever runner runs it: the functions behind the queue's task names.

`register` gives them to a worker's procrastinate application; the in-process runner calls the
same functions directly. A worker builds its own parts (database, store) from the environment,
as `massicot serve` does: it may run on a host of its own.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import procrastinate

from correction_server.db import make_engine, make_session_factory
from correction_server.jobs.queue import OFFICE_TASK, RENDER_RETRY, RENDER_TASK
from correction_server.office import actions, console_work
from correction_server.pages.images import PageLook
from correction_server.pages.rendering import PRERENDERED_WIDTHS, render_batch
from correction_server.pages.store import open_store
from correction_server.settings import Settings

log = logging.getLogger(__name__)


def looks_to_json(looks: list[PageLook]) -> list[list[Any]]:
    return [[look.sha256, look.rotation, look.skew] for look in looks]


def looks_from_json(rows: list[list[Any]]) -> list[PageLook]:
    return [PageLook(sha, int(rotation), float(skew)) for sha, rotation, skew in rows]


def render_pages(settings: Settings, looks: list[PageLook]) -> int:
    """Make the display images of these pages; the number made now. A page that cannot be
    rendered raises, so that the queue tries the job again later."""
    outcome = render_batch(str(settings.store_path), looks, PRERENDERED_WIDTHS, settings.store_url)
    if outcome.failed:
        raise RuntimeError("display images not made: " + "; ".join(outcome.failed))
    return outcome.rendered


def run_office_action(
    ctx: console_work.WorkContext, action_id: int, kind: str, params: dict[str, Any], lang: str
) -> None:
    """One office action, its outcome recorded on its row (whatever happens, it ends)."""

    def work(progress: actions.Progress) -> tuple[bool, str]:
        # Built inside the run: parameters a newer server wrote, or an unknown kind, end the action
        # with its failure said, rather than leaving it "queued" for ever.
        return console_work.build(kind, ctx, params, lang)(progress)

    actions.run(ctx.session_factory, action_id, work, lang)


@functools.cache
def worker_context(settings: Settings) -> console_work.WorkContext:
    """A worker's own parts, made once per process."""
    factory = make_session_factory(make_engine(settings.database_url))
    return console_work.WorkContext(factory, open_store(settings.store_location), settings)


def register(app: procrastinate.App, settings: Settings) -> None:
    """The tasks a worker runs, under the names the server defers them by."""

    @app.task(name=RENDER_TASK, retry=RENDER_RETRY, pass_context=False)
    def render(looks: list[list[Any]]) -> int:
        return render_pages(settings, looks_from_json(looks))

    @app.task(name=OFFICE_TASK, pass_context=False)
    def office(action_id: int, kind: str, params: dict[str, Any], lang: str) -> None:
        run_office_action(worker_context(settings), action_id, kind, params, lang)
