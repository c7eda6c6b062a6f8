"""The job queue on a real PostgreSQL with real `massicot worker` processes: an office action
queued while no worker runs is done by the worker started after the server stopped; rendering
jobs spread over two workers run each exactly once; a failing job is retried with backoff; the
health check counts the waiting jobs; SQLite is refused in plain words."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from correction_server.app import create_app
from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.jobs.runner import QueuedJobs
from correction_server.models import Role, User
from correction_server.models.office import ActionState, OfficeAction
from correction_server.pages import images as page_images
from correction_server.pages.rendering import PRERENDERED_WIDTHS
from correction_server.pages.store import LocalStore
from correction_server.settings import Settings, derived_dir
from testkit.scan_files import encode_jpeg
from testkit.worlds.auth import SECRET, login_cookie

MASSICOT = str(Path(sys.executable).parent / "massicot")


@pytest.fixture
def pg_db(fresh_database) -> str:
    return fresh_database("postgresql")


def _settings(url: str, store: Path) -> Settings:
    return Settings(database_url=url, store_path=store, secret_key=SECRET, jobs="queue")


def _worker(url: str, store: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MASSICOT_SECRET_KEY": SECRET, "MASSICOT_JOBS": "queue"}
    return subprocess.Popen(
        [MASSICOT, "worker", "--db", url, "--store", str(store), "--concurrency", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab"),  # noqa: SIM115 - kept for the process's life
    )


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("the worker did not stop within 30 s of SIGTERM") from None


@pytest.fixture
def workers(pg_db: str, tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            _stop(process)


def _scalar(url: str, sql: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


@pytest.mark.postgres
def test_an_action_queued_while_no_worker_runs_is_done_by_the_worker_started_later(
    pg_db: str, tmp_path: Path, workers
) -> None:
    from fastapi.testclient import TestClient

    store = tmp_path / "store"
    factory = make_session_factory(make_engine(pg_db))
    with factory() as s, s.begin():
        office = User(username="office@ac.fr", role=Role.OFFICE)
        s.add(office)
        s.flush()
        office_id = office.id
    cookie, csrf = login_cookie(factory, office_id, SECRET)
    with TestClient(create_app(_settings(pg_db, store))) as client:
        client.cookies.set(auth.SESSION_COOKIE, cookie)
        sent = client.post("/office/housekeeping/audit", data={"csrf_token": csrf}, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        action_id = int(sent.headers["location"].rsplit("/", 1)[1].split("?")[0])
        again = client.post("/office/housekeeping/audit", data={"csrf_token": csrf}, follow_redirects=False)
        assert again.headers["location"] == f"/office/actions/{action_id}?again=1"
        health = client.get("/health").json()
        assert health["queue_depth"] == 1
    # The server is gone; nothing ran the action: it waits in the database.
    time.sleep(1.0)
    with factory() as s:
        assert s.get(OfficeAction, action_id).state == ActionState.QUEUED.value
    workers.append(_worker(pg_db, store, tmp_path / "worker.log"))

    def done() -> bool:
        with factory() as s:
            return s.get(OfficeAction, action_id).state == ActionState.DONE.value

    _wait_for(done, 60, "the worker ends the queued action")
    with factory() as s:
        action = s.get(OfficeAction, action_id)
        assert action.succeeded, action.outcome
        assert "Journal d'audit intact" in action.outcome
        assert action.running_key is None
    assert _stop(workers.pop()) == 0
    factory.kw["bind"].dispose()


def _pages(store: LocalStore, count: int) -> list[page_images.PageLook]:
    rng = np.random.default_rng(3)
    looks = []
    for n in range(count):
        gray = np.full((1100, 800), 245, np.uint8)
        gray[100 + n * 10 : 160 + n * 10, 100:700] = rng.integers(0, 80, (60, 600), dtype=np.uint8)
        looks.append(
            page_images.PageLook(store.put(encode_jpeg(gray, 150)), n % 4 * 90 if n % 5 == 0 else 0, 0.0)
        )
    return looks


@pytest.mark.postgres
def test_rendering_jobs_spread_over_two_workers_each_run_once_and_a_failure_is_retried(
    pg_db: str, tmp_path: Path, workers
) -> None:
    store_path = tmp_path / "store"
    store = LocalStore(store_path)
    looks = _pages(store, 24)
    absent = page_images.PageLook("ab" * 32, 0, 0.0)  # no such image in the store
    jobs = QueuedJobs(_settings(pg_db, store_path))
    jobs.start()
    try:
        for look in looks:
            jobs.render([look])  # one job each: enough jobs for two workers to share
        jobs.render([absent])
    finally:
        jobs.stop()
    assert _scalar(pg_db, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'") == 25
    workers.append(_worker(pg_db, store_path, tmp_path / "w1.log"))
    workers.append(_worker(pg_db, store_path, tmp_path / "w2.log"))
    cache = derived_dir(store_path)
    paths = [page_images.derivative_path(cache, look, PRERENDERED_WIDTHS[0]) for look in looks]
    _wait_for(lambda: all(p.exists() for p in paths), 120, "every display image made")
    _wait_for(
        lambda: _scalar(pg_db, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'") == 24,
        60,
        "24 jobs succeeded",
    )
    started_twice = _scalar(
        pg_db,
        "SELECT count(*) FROM (SELECT job_id FROM procrastinate_events WHERE type = 'started' "
        "GROUP BY job_id HAVING count(*) > 1) AS twice "
        "JOIN procrastinate_jobs j ON j.id = twice.job_id WHERE j.status = 'succeeded'",
    )
    assert started_twice == 0
    # The job of the absent image failed and went back to the queue for a later attempt.
    _wait_for(
        lambda: (
            (_scalar(pg_db, "SELECT max(attempts) FROM procrastinate_jobs WHERE status <> 'succeeded'") or 0)
            >= 2
        ),
        60,
        "the failing job tried again",
    )
    retried = _scalar(pg_db, "SELECT count(*) FROM procrastinate_events WHERE type = 'deferred_for_retry'")
    assert retried >= 1
    for process in list(workers):
        assert _stop(process) == 0
        workers.remove(process)


def test_the_worker_refuses_sqlite_in_plain_words(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    done = subprocess.run(
        [MASSICOT, "worker", "--db", url, "--store", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MASSICOT_SECRET_KEY": SECRET},
    )
    assert done.returncode != 0
    assert "The job queue needs PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr


def test_jobs_in_process_on_one_host_need_no_queue(db_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    settings = Settings(database_url=db_url, store_path=tmp_path / "store", secret_key=SECRET)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["queue_depth"] is None
