"""The production topology on this machine: nginx in front of two server processes, one PostgreSQL,
one SeaweedFS bucket. Health through nginx, the client's address and scheme as only nginx may say
them, a station's push, and a server process killed in the middle of a correction evening."""

from __future__ import annotations

import hashlib
import importlib.util
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text

from correction_server.auth.sessions import PRE_LOGIN_COOKIE, SESSION_COOKIE
from correction_server.models import Marking, Page, QuestionMark, User
from correction_server.pages.s3store import S3Store
from deploy.up_local import PROXY_ADDRESS
from testkit.deployment import client, cookies, log_in, pre_login, session_cookie
from testkit.push_helpers import CENTRE_B, row_counts, run_push
from testkit.push_setup import make_sealed_lot, seed_exam

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HAS_JOBS = importlib.util.find_spec("correction_server.jobs") is not None


def test_the_topology_comes_up_and_is_healthy_through_nginx(site):
    deployment = site.deployment
    with client() as http:
        answer = http.get(f"{site.url}/health")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "ok" and body["failing"] == []
        assert body["database"] == "ok" and body["store"] == "ok"
        assert body["queue_depth"] is None if not HAS_JOBS else isinstance(body["queue_depth"], int)
        # Public, and nothing in it names a host, a port, the bucket or the database.
        for secret in (deployment.bucket, str(deployment.cluster.port), "127.0.0", "massicot"):
            assert secret not in answer.text
        assert answer.headers["cache-control"] == "no-store"
        for url in deployment.server_urls:
            assert http.get(f"{url}/health").status_code == 200
    # nginx took the probe to one of the two processes.
    ports = {str(server.port) for server in deployment.servers}
    health = [line for line in deployment.nginx.access_log() if line.startswith("GET /health")]
    assert health and health[-1].split()[-1].rsplit(":", 1)[-1] in ports


def test_health_is_503_naming_the_store_while_the_store_is_down(site):
    seaweed = site.deployment.seaweed
    with client() as http:
        seaweed.stop()
        try:
            started = time.monotonic()
            answer = http.get(f"{site.url}/health")
            assert time.monotonic() - started < 15  # a dead store is reported, not waited for
            assert answer.status_code == 503, answer.text
            assert answer.json()["failing"] == ["store"]
            assert answer.json()["database"] == "ok" and answer.json()["store"] == "failing"
        finally:
            seaweed.start()
        # The store back (same ports, same data): healthy again without restarting the servers.
        deadline = time.monotonic() + 30
        while http.get(f"{site.url}/health").status_code != 200:
            assert time.monotonic() < deadline, "the site stayed unhealthy after the store came back"
            time.sleep(0.5)


def _failed_login_address(db_url: str, username: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT client_ip FROM login_failure WHERE username = :u"), {"u": username}
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def test_client_address_and_scheme_are_taken_from_nginx_only(site):
    deployment = site.deployment
    first = deployment.server_urls[0]
    forged = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with client() as http:
        # Through nginx: what the client wrote counts for nothing; nginx says who it is.
        assert log_in(http, site.url, "via-nginx", "wrong password!!", forged).status_code == 401
        # Straight to a server from a program on the host: not the trusted proxy either (uvicorn's
        # own proxy handling, which would trust 127.0.0.1, is off).
        assert log_in(http, first, "direct", "wrong password!!", forged).status_code == 401
        login = log_in(http, site.url, "corrector1", headers=forged)
        assert "secure" not in login.headers["set-cookie"].lower()
        http.post(f"{site.url}/logout", headers=cookies(**{SESSION_COOKIE: session_cookie(login)}))
    with client(local_address=PROXY_ADDRESS) as proxy:
        # From the trusted proxy's address, its X-Forwarded-* are believed.
        assert log_in(proxy, first, "via-proxy", "wrong password!!", forged).status_code == 401
        answer = proxy.get(f"{first}/login", headers=forged)
        assert "; secure" in answer.headers["set-cookie"].lower()
        login = log_in(proxy, first, "corrector1", headers=forged)
        assert "; secure" in login.headers["set-cookie"].lower()
        plain = log_in(proxy, first, "corrector1", headers={"X-Forwarded-Proto": "http"})
        assert "secure" not in plain.headers["set-cookie"].lower()
    assert _failed_login_address(deployment.db_url, "via-nginx") == ["127.0.0.1"]
    assert _failed_login_address(deployment.db_url, "direct") == ["127.0.0.1"]
    assert _failed_login_address(deployment.db_url, "via-proxy") == ["203.0.113.7"]


def test_a_station_push_through_nginx_lands_in_the_bucket(site, tmp_path: Path):
    deployment = site.deployment
    exam = seed_exam(deployment.db_url, {CENTRE_B: 4}, paper="U5")
    lot = make_sealed_lot(tmp_path / "lot", CENTRE_B, exam.paper, exam.candidates[CENTRE_B], pages_per_copy=3)
    before = row_counts(deployment.db_url)
    done = run_push(lot.folder, site.url, exam.tokens[CENTRE_B], "--chunk-kib", "16")
    assert done.returncode == 0, done.stdout + done.stderr
    after = row_counts(deployment.db_url)
    assert after["scan_lot"] == before["scan_lot"] + 1
    assert after["page"] == before["page"] + lot.pages
    assert after["push_upload"] == before["push_upload"]
    bucket = S3Store(deployment.seaweed.client(), deployment.bucket, "pages")
    hashes = [page.sha256 for copy in lot.manifest.copies for page in copy.pages]
    assert bucket.missing(hashes) == []
    with bucket.open(hashes[0]) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashes[0]
    # The image chunks went through nginx to both server processes (round robin): the partial
    # uploads are in the bucket, not in one process.
    chunk_upstreams = {
        line.split()[-1] for line in deployment.nginx.access_log() if line.startswith("PUT /api/v1/lots/")
    }
    assert {f"127.0.0.1:{server.port}" for server in deployment.servers} <= chunk_upstreams
    # The display images were queued as jobs and made by the worker, not by a server process.
    assert deployment.worker is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and _render_jobs(deployment.db_url, "succeeded") < 1:
        time.sleep(0.5)
    assert _render_jobs(deployment.db_url, "succeeded") >= 1
    worker_cache = deployment.root / "worker" / "store" / "derived"
    assert any(worker_cache.rglob("*.jpg")), "the worker made no display image"
    for server in deployment.servers:
        assert not any((server.store / "derived").rglob("*.jpg")), "a server process rendered"
    # A server process shows a page the worker made, from the bucket: it renders nothing itself.
    page_id, name = _first_page(deployment.db_url, hashes[0])
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and bucket.get_shared(name) is None:
        time.sleep(0.5)
    assert bucket.get_shared(name) is not None, "the worker's display image is not in the bucket"
    bucket.put_shared(name, b"\xff\xd8 as the worker left it")
    _office_account(deployment.db_url, "office-derived")
    with client() as http:
        cookie = session_cookie(log_in(http, site.url, "office-derived"))
        for _ in range(2):  # both server processes, round robin
            shown = http.get(
                f"{site.url}/marking/pages/{page_id}/image", headers=cookies(**{SESSION_COOKIE: cookie})
            )
            assert shown.status_code == 200, shown.text
            assert shown.content == b"\xff\xd8 as the worker left it"


def _first_page(db_url: str, sha256: str) -> tuple[int, str]:
    from correction_server.pages.images import DEFAULT_WIDTH, derivative_name

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(Page.id, Page.rotation, Page.skew_degrees).where(Page.image_sha256 == sha256)
            ).one()
    finally:
        engine.dispose()
    return row.id, derivative_name(sha256, row.rotation, row.skew_degrees, DEFAULT_WIDTH)


def _office_account(db_url: str, username: str) -> None:
    from correction_server.auth.sessions import hash_password
    from testkit.deployment import PASSWORD

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(User).values(
                    username=username, display_name="DEC", email="", role="office",
                    password_hash=hash_password(PASSWORD), active=True,
                )
            )  # fmt: skip
    finally:
        engine.dispose()


def _render_jobs(db_url: str, status: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'massicot.render_pages' "
                    "AND status = :s"
                ),
                {"s": status},
            ).scalar_one()
    finally:
        engine.dispose()


def _marks(db_url: str, copy_id: str) -> dict[str, float]:
    """The points recorded for each question of a copy, read from the database itself."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(QuestionMark.question_id, QuestionMark.points)
                .join(Marking, Marking.id == QuestionMark.marking_id)
                .where(Marking.copy_id == copy_id)
            )
            return {str(question): float(points) for question, points in rows}
    finally:
        engine.dispose()


def test_a_killed_server_process_loses_no_save_and_nginx_sends_the_next_requests_to_the_other(site):
    deployment = site.deployment
    world = site.marking
    copy_id = world.copies[0]
    q1, q2, _ = world.question_ids
    url = f"{site.url}/api/marking/copies/{copy_id}"
    with client() as http:
        cookie = session_cookie(log_in(http, site.url, "corrector1"))
        page = http.get(f"{site.url}/home", headers=cookies(**{SESSION_COOKIE: cookie}))
        csrf = page.text.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
        headers = {"X-CSRF-Token": csrf, "Accept": "application/json", **cookies(**{SESSION_COOKIE: cookie})}
        version = http.get(url, headers=headers).json()["version"]
        saved = http.put(url, json={"version": version, "marks": {str(q1): "3,5"}}, headers=headers)
        assert saved.status_code == 200, saved.text
        version = saved.json()["version"]
        killed = deployment.servers[0]
        killed.kill()
        try:
            for _ in range(6):  # round robin would give the dead process every other request
                answer = http.get(url, headers=headers)
                assert answer.status_code == 200, answer.text
                assert answer.json()["marks"][str(q1)] == 3.5
            again = http.put(
                url, json={"version": version, "marks": {str(q1): "3,5", str(q2): "5"}}, headers=headers
            )
            assert again.status_code == 200, again.text
            for _ in range(4):
                assert http.get(f"{site.url}/marking", headers=headers).status_code == 200
        finally:
            killed.start()
        # Both saves are in the database, and the process started again reads them.
        assert _marks(deployment.db_url, copy_id) == {str(q1): 3.5, str(q2): 5.0}
        direct = http.get(f"{killed.url}/api/marking/copies/{copy_id}", headers=headers)
        assert direct.status_code == 200 and direct.json()["marks"][str(q2)] == 5.0
    # nginx did meet the dead process (a refused connection) and went on to the other.
    assert "connect() failed" in deployment.nginx.error_log()


def test_nginx_refuses_a_body_no_route_would_take_before_a_server_reads_it(site):
    with client() as http:
        token, pre = pre_login(http, site.url)
        answer = http.post(
            f"{site.url}/login",
            content=b"x" * (34 * 1024 * 1024),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **cookies(**{PRE_LOGIN_COOKIE: pre}),
            },
        )
        assert answer.status_code == 413
        assert "nginx" in answer.text  # refused at the edge, not by a server process
        assert token
