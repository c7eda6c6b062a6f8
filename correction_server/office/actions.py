"""The office's long actions (an import of 20,000 lines, a dispatch, a purge), run in the
background: one row per action (`models.OfficeAction`: kind, target, state, progress n/N, the
outcome in plain words, who, when), so the page that started it answers at once and shows its
progress until it is done.

`start_job` records the action and hands its id to `submit`, the ONE seam where work leaves the
request: the server's job runner (`correction_server.jobs`) runs it in a thread of the server, or
queues it for `massicot worker` (procrastinate, on PostgreSQL), the work named by its kind and
JSON parameters (`console_work.build`). `start` runs a work function of its own in a thread of
this process (the tests' slow actions). A second click while the same kind
of action on the same target is queued or running finds the first one (the unique
`running_key`), whichever process it came to.

A work function takes a `Progress` and returns `(succeeded, outcome words)`; a `UserError` it
raises is its outcome (nothing was done), anything else is reported as a failure in plain words
and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from correction_server import i18n
from correction_server.models.office import ActionState, OfficeAction
from massicot_core.errors import Refused, UserError

log = logging.getLogger(__name__)

# Progress is written at most this often: a 20,000-line import must not spend its time on it.
PROGRESS_EVERY_S = 0.3


class Progress:
    """What a work function reports as it goes: `progress(done, total)`."""

    def __init__(self, factory: sessionmaker[Session], action_id: int) -> None:
        self._factory, self._id = factory, action_id
        self._last = 0.0

    def __call__(self, done: int, total: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        with self._factory() as session, session.begin():
            session.execute(
                update(OfficeAction).where(OfficeAction.id == self._id).values(done=done, total=total)
            )


Work = Callable[[Progress], tuple[bool, str]]


@dataclass(frozen=True)
class Started:
    action_id: int
    already_running: bool  # a second click: this is the action already under way


def running_key(kind: str, target: str) -> str:
    return f"{kind}:{target}"[:260]


def start(
    factory: sessionmaker[Session],
    kind: str,
    target: str,
    work: Work,
    *,
    by_user_id: int | None,
    by_name: str,
    lang: str = i18n.DEFAULT_LANGUAGE,
) -> Started:
    """Record the action and run `work` in a thread of this process (the tests' own work
    functions); or find the same action already queued or running."""
    return start_job(
        factory,
        kind,
        target,
        lambda action_id: _in_thread(lambda: run(factory, action_id, work, lang)),
        by_user_id=by_user_id,
        by_name=by_name,
    )


def start_job(
    factory: sessionmaker[Session],
    kind: str,
    target: str,
    submit: Callable[[int], None],
    *,
    by_user_id: int | None,
    by_name: str,
) -> Started:
    """Record the action, then `submit(action_id)`: THE seam where its work leaves the request
    (the server's job runner: a thread of this process, or the job queue). A second click finds
    the same action already queued or running."""
    key = running_key(kind, target)
    try:
        with factory() as session, session.begin():
            action = OfficeAction(
                kind=kind,
                target=target,
                state=ActionState.QUEUED.value,
                done=0,
                total=0,
                outcome="",
                by_user_id=by_user_id,
                by_name=by_name,
                started_at=datetime.now(UTC),
                running_key=key,
            )
            session.add(action)
            session.flush()
            action_id = action.id
    except IntegrityError:
        with factory() as session:
            found = session.scalar(select(OfficeAction.id).where(OfficeAction.running_key == key))
        if found is None:  # it finished between our insert and our look: start it again
            return start_job(factory, kind, target, submit, by_user_id=by_user_id, by_name=by_name)
        return Started(found, already_running=True)
    try:
        submit(action_id)
    except Exception:  # noqa: BLE001 - an action that could not be queued must not stay "queued"
        log.exception("office action %s could not be queued", action_id)
        _set(
            factory,
            action_id,
            state=ActionState.DONE.value,
            succeeded=False,
            outcome=i18n.translate(i18n.DEFAULT_LANGUAGE, "office.action.failed"),
            finished_at=datetime.now(UTC),
            running_key=None,
        )
    return Started(action_id, already_running=False)


def _in_thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="office-action", daemon=True).start()


def run(factory: sessionmaker[Session], action_id: int, work: Work, lang: str) -> None:
    """Run one action's work and record how it ended (whatever happens, it ends)."""
    _set(factory, action_id, state=ActionState.RUNNING.value)
    try:
        succeeded, outcome = work(Progress(factory, action_id))
    except Refused as exc:
        succeeded, outcome = False, exc.words(lang)
    except UserError as exc:
        succeeded, outcome = False, str(exc)
    except Exception:  # noqa: BLE001 - the outcome must be recorded, the details go to the log
        log.exception("office action %s failed", action_id)
        succeeded, outcome = False, i18n.translate(lang, "office.action.failed")
    _set(
        factory,
        action_id,
        state=ActionState.DONE.value,
        succeeded=succeeded,
        outcome=outcome,
        finished_at=datetime.now(UTC),
        running_key=None,
    )


def _set(factory: sessionmaker[Session], action_id: int, **values: object) -> None:
    with factory() as session, session.begin():
        session.execute(update(OfficeAction).where(OfficeAction.id == action_id).values(**values))


def interrupt_unfinished(factory: sessionmaker[Session], lang: str = i18n.DEFAULT_LANGUAGE) -> int:
    """Actions left queued or running by a stopped server: ended, saying so (run at start-up of
    the only server process; nothing of an import is written until its one transaction commits)."""
    with factory() as session, session.begin():
        result = session.execute(
            update(OfficeAction)
            .where(OfficeAction.running_key.is_not(None))
            .values(
                state=ActionState.DONE.value,
                succeeded=False,
                outcome=i18n.translate(lang, "office.action.interrupted"),
                finished_at=datetime.now(UTC),
                running_key=None,
            )
        )
        return result.rowcount or 0


def get(session: Session, action_id: int) -> OfficeAction | None:
    return session.get(OfficeAction, action_id)


def recent(session: Session, limit: int = 20) -> list[OfficeAction]:
    return list(session.scalars(select(OfficeAction).order_by(OfficeAction.id.desc()).limit(limit)))


def wait(factory: sessionmaker[Session], action_id: int, timeout: float = 120.0) -> OfficeAction:
    """Block until the action is done (the command line and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            action = session.get(OfficeAction, action_id)
            if action is not None and action.state == ActionState.DONE.value:
                return action
        if time.monotonic() > deadline:
            raise TimeoutError(f"office action {action_id} still running after {timeout} s")
        time.sleep(0.05)
