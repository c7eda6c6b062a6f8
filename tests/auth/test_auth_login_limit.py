"""The login rate limit is kept in the database: it holds across server processes and restarts.

Each server process of `massicot serve` is played by an application of its own (create_app on
the same database URL, a TestClient each), as the tests cannot fork the server's workers.
"""

from __future__ import annotations

import re
import threading
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from correction_server.auth import sessions as auth
from correction_server.auth.login_limit import (
    LOGIN_MAX_FAILURES,
    LOGIN_MAX_FAILURES_PER_IP,
    LOGIN_WINDOW_SECONDS,
    LoginRateLimiter,
)
from correction_server.db import make_engine, make_session_factory
from correction_server.models import LoginFailure, Role, User
from testkit.worlds.auth import PASSWORD, make_client

ACCOUNT = "corr@lycee.fr"
OTHER = "office@ac.fr"


def _login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def _wrong(client, username: str = ACCOUNT):
    return _login(client, username, "not the password at all")


def _add_accounts(db_url: str) -> None:
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        for name, role in ((ACCOUNT, Role.CORRECTOR), (OTHER, Role.OFFICE)):
            s.add(User(username=name, role=role, password_hash=auth.hash_password(PASSWORD)))
        s.commit()
    engine.dispose()


def _failures(client) -> int:
    with client.app.state.session_factory() as s:
        return s.scalar(select(func.count()).select_from(LoginFailure))


@pytest.fixture
def servers(db_url: str, tmp_path: Path):
    """Two server processes on one database, and the function that starts a further one."""
    with ExitStack() as stack:

        def start(name: str, client_ip: str = "testclient"):
            return stack.enter_context(make_client(db_url, tmp_path / name, client_ip=client_ip))

        first, second = start("a"), start("b")
        _add_accounts(db_url)
        yield first, second, start


def test_two_processes_share_the_count_whichever_gets_the_next_attempt(servers) -> None:
    first, second, _ = servers
    for n in range(LOGIN_MAX_FAILURES):
        assert _wrong((first, second)[n % 2]).status_code == 401
    for client in (first, second):
        blocked = _login(client, ACCOUNT)  # the right password, and still refused
        assert blocked.status_code == 429 and "Trop d&#39;essais manqués" in blocked.text
    assert _login(second, OTHER).status_code == 303  # another account from the same address


def test_a_restart_forgets_nothing(db_url: str, tmp_path: Path) -> None:
    with make_client(db_url, tmp_path / "store") as before:
        _add_accounts(db_url)
        for _ in range(LOGIN_MAX_FAILURES):
            assert _wrong(before).status_code == 401
    with make_client(db_url, tmp_path / "store") as after:  # the server started again
        assert _login(after, ACCOUNT).status_code == 429
        assert _failures(after) == LOGIN_MAX_FAILURES  # refused attempts are not counted


def test_a_success_clears_the_pair_in_every_process(servers) -> None:
    first, second, _ = servers
    for _ in range(LOGIN_MAX_FAILURES - 1):
        assert _wrong(first).status_code == 401
    assert _login(second, ACCOUNT).status_code == 303
    assert _failures(first) == 0
    for n in range(LOGIN_MAX_FAILURES):  # a whole new allowance
        assert _wrong((first, second)[n % 2]).status_code == 401
    assert _wrong(first).status_code == 429


def test_the_message_says_how_long_to_wait_and_the_window_slides(servers) -> None:
    first, second, _ = servers
    start = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)
    now = [start]
    for client in (first, second):
        client.app.state.login_limiter.clock = lambda: now[0]
    for n in range(LOGIN_MAX_FAILURES):
        now[0] = start + timedelta(minutes=n)  # one failure a minute
        assert _wrong((first, second)[n % 2]).status_code == 401
    now[0] = start + timedelta(minutes=10)
    blocked = _login(second, ACCOUNT)
    # The first failure leaves the 15-minute window at 20:15, five minutes from now.
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "300"
    assert "Réessayez dans 5 minute(s)." in blocked.text
    first.get("/lang/en")
    english = _login(first, ACCOUNT)
    assert "Too many failed attempts. Try again in 5 minute(s)." in english.text
    now[0] = start + timedelta(seconds=LOGIN_WINDOW_SECONDS)  # the first failure has left the window
    assert _wrong(first).status_code == 401
    # Only the four failures still in the window and this one remain: the old row was deleted.
    assert _failures(first) == LOGIN_MAX_FAILURES
    assert _login(second, ACCOUNT).status_code == 429  # five in the window again


def test_one_address_cannot_try_every_account(servers) -> None:
    first, second, start = servers
    for n in range(LOGIN_MAX_FAILURES_PER_IP):  # one guess at each of many accounts
        assert _wrong((first, second)[n % 2], f"someone{n}@lycee.fr").status_code == 401
    blocked = _login(first, ACCOUNT)  # an account never tried from here
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "depuis cet ordinateur ou ce réseau, sur plusieurs comptes" in blocked.text
    assert "Réessayez dans 15 minute(s)." in blocked.text
    elsewhere = start("c", client_ip="192.0.2.7")
    assert _login(elsewhere, ACCOUNT).status_code == 303  # another address is not held up


def test_wrong_current_passwords_count_across_processes(servers) -> None:
    first, second, _ = servers
    assert _login(first, ACCOUNT).status_code == 303
    page = first.get("/account/password")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    for _ in range(LOGIN_MAX_FAILURES - 1):
        data = {
            "csrf_token": csrf,
            "current_password": "a guess",
            "new_password": "x" * 12,
            "confirm": "x" * 12,
        }
        assert first.post("/account/password", data=data).status_code == 400
    too_short = {"csrf_token": csrf, "current_password": PASSWORD, "new_password": "x", "confirm": "x"}
    assert first.post("/account/password", data=too_short).status_code == 400  # not a guess: not counted
    assert _wrong(second).status_code == 401  # the fifth failure of this account from this address
    blocked = first.post("/account/password", data=too_short)
    assert blocked.status_code == 429 and "Trop d&#39;essais manqués" in blocked.text


def _burst(factories: list[sessionmaker], limiter: LoginRateLimiter, count: int) -> list[bool]:
    """`count` attempts at once on one account from one address; True for each one let through."""
    start = threading.Barrier(count)
    allowed: list[bool] = []

    def one(factory: sessionmaker) -> None:
        with factory() as session:
            start.wait(timeout=60)
            allowed.append(not limiter.begin(session, ACCOUNT, "198.51.100.1").refused)

    threads = [threading.Thread(target=one, args=(factories[n % 2],)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return allowed


def test_simultaneous_guesses_get_no_more_tries_than_one_after_another(db_url: str) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]  # two processes' connection pools
    factories = [make_session_factory(engine) for engine in engines]
    limiter = LoginRateLimiter()
    with factories[0]() as session:  # failures of long ago, for the burst's purges to compete over
        long_ago = datetime.now(UTC) - timedelta(seconds=LOGIN_WINDOW_SECONDS + 60)
        session.add_all(
            LoginFailure(username=ACCOUNT, client_ip="198.51.100.1", at=long_ago) for _ in range(30)
        )
        session.commit()
    try:
        allowed = _burst(factories, limiter, 16)
        assert len(allowed) == 16
        let_through = sum(allowed)
        assert let_through <= LOGIN_MAX_FAILURES
        with factories[0]() as session:
            # Old rows purged; refused attempts took their rows back; the ones let through stay.
            assert session.scalar(select(func.count()).select_from(LoginFailure)) == let_through
            more = 0
            while not limiter.begin(session, ACCOUNT, "198.51.100.1").refused:
                more += 1
        assert let_through + more == LOGIN_MAX_FAILURES
    finally:
        for engine in engines:
            engine.dispose()
