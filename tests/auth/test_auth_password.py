"""Changing one's own password (every role), and the office's reset from the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from correction_server.auth import passwords
from correction_server.auth import sessions as auth
from correction_server.auth.login_limit import LOGIN_MAX_FAILURES
from correction_server.models import LoginSession, Role, User
from testkit.worlds.auth import PASSWORD, SECRET, login_cookie

NEW = "une phrase facile à retenir"
PAGE = "/account/password"


@pytest.fixture
def people(client):
    factory = client.app.state.session_factory
    ids = {}
    with factory() as s:
        for name, role in (
            ("office@ac.fr", Role.OFFICE),
            ("corr@lycee.fr", Role.CORRECTOR),
            ("coord@ac.fr", Role.COORDINATOR),
            ("centre-0130040y", Role.CENTRE),
        ):
            user = User(username=name, role=role, password_hash=auth.hash_password(PASSWORD))
            s.add(user)
            s.flush()
            ids[name] = user.id
        s.commit()
    return ids


def _use_login(client, user_id: int) -> str:
    """Put a fresh login of `user_id` in the client's cookies; returns its CSRF token."""
    cookie, csrf = login_cookie(client.app.state.session_factory, user_id, SECRET)
    client.cookies.clear()
    client.cookies.set(auth.SESSION_COOKIE, cookie)
    return csrf


def _change(client, csrf: str | None, current: str, new: str, confirm: str | None = None):
    data = {"current_password": current, "new_password": new, "confirm": new if confirm is None else confirm}
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post(PAGE, data=data, follow_redirects=False)


def _hash_of(client, user_id: int) -> str:
    with client.app.state.session_factory() as s:
        return s.get(User, user_id).password_hash


def _login(client, username: str, password: str):
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def test_every_role_has_the_form_with_the_rule_in_plain_words(client, people) -> None:
    for user_id in people.values():
        _use_login(client, user_id)
        page = client.get(PAGE)
        assert page.status_code == 200
        assert f"Au moins {auth.MIN_PASSWORD_LENGTH} caractères" in page.text
        assert 'name="current_password"' in page.text and 'name="confirm"' in page.text
        assert re.search(r'name="csrf_token" value="[^"]+"', page.text)
    client.cookies.clear()
    anonymous = client.get(PAGE, headers={"accept": "text/html"}, follow_redirects=False)
    assert anonymous.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("current", "new", "confirm", "words"),
    [
        ("not my password", NEW, NEW, "Le mot de passe actuel n&#39;est pas le bon"),
        (PASSWORD, NEW, NEW + "!", "Les deux nouveaux mots de passe sont différents"),
        (PASSWORD, "court", "court", f"au moins {auth.MIN_PASSWORD_LENGTH} caractères"),
        (
            PASSWORD,
            "abababababab",
            "abababababab",
            f"au moins {passwords.MIN_DISTINCT} caractères différents",
        ),
        (PASSWORD, "corr is my name here", "corr is my name here", "ne doit pas contenir votre identifiant"),
        (PASSWORD, PASSWORD, PASSWORD, "différent de l&#39;actuel"),
    ],
    ids=["wrong-current", "mismatch", "too-short", "too-simple", "username", "same"],
)
def test_refusals_change_nothing_and_say_why(client, people, current, new, confirm, words) -> None:
    user_id = people["corr@lycee.fr"]
    before = _hash_of(client, user_id)
    csrf = _use_login(client, user_id)
    answer = _change(client, csrf, current, new, confirm)
    assert answer.status_code == 400
    assert words in answer.text and "Rien n&#39;a été changé" in answer.text
    assert _hash_of(client, user_id) == before
    assert _login(client, "corr@lycee.fr", PASSWORD).status_code == 303


def test_a_change_without_its_csrf_token_is_refused(client, people) -> None:
    user_id = people["office@ac.fr"]
    before = _hash_of(client, user_id)
    _use_login(client, user_id)
    assert _change(client, None, PASSWORD, NEW).status_code == 403
    assert _change(client, "forged-token", PASSWORD, NEW).status_code == 403
    assert _hash_of(client, user_id) == before


def test_success_ends_other_sessions_and_the_old_password_is_refused(client, people) -> None:
    user_id = people["coord@ac.fr"]
    other_cookie, _ = login_cookie(client.app.state.session_factory, user_id, SECRET)
    csrf = _use_login(client, user_id)
    mine = client.cookies.get(auth.SESSION_COOKIE)
    client.get("/home")  # both logins are now in the server's login cache
    client.cookies.set(auth.SESSION_COOKIE, other_cookie)
    assert client.get("/home").status_code == 200
    client.cookies.set(auth.SESSION_COOKIE, mine)
    done = _change(client, csrf, PASSWORD, NEW)
    assert done.status_code == 303 and done.headers["location"] == PAGE + "?done=1"
    assert "Vos autres sessions ouvertes" in client.get(done.headers["location"]).text
    assert client.get("/home").status_code == 200  # the session that made the change stays
    client.cookies.set(auth.SESSION_COOKIE, other_cookie)
    assert client.get("/home", follow_redirects=False).status_code == 401  # the other one ended
    with client.app.state.session_factory() as s:
        assert s.scalar(select(func.count()).where(LoginSession.user_id == user_id)) == 1
        assert s.get(User, user_id).password_hash.startswith("$argon2id$")
    assert _login(client, "coord@ac.fr", PASSWORD).status_code == 401
    assert _login(client, "coord@ac.fr", NEW).status_code == 303


def test_wrong_current_passwords_count_as_failed_logins(client, people) -> None:
    csrf = _use_login(client, people["corr@lycee.fr"])
    for _ in range(LOGIN_MAX_FAILURES):
        assert _change(client, csrf, "a guess at it", NEW).status_code == 400
    blocked = _change(client, csrf, PASSWORD, NEW)  # even the right one now waits
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def _massicot(*args: str) -> subprocess.CompletedProcess:
    massicot = str(Path(sys.executable).parent / "massicot")
    env = {**os.environ, "MASSICOT_SECRET_KEY": SECRET}
    return subprocess.run([massicot, *args], capture_output=True, text=True, env=env, timeout=120)


def test_office_reset_gives_a_one_time_password_to_replace_at_login(client, people, db_url) -> None:
    user_id = people["corr@lycee.fr"]
    old_cookie, _ = login_cookie(client.app.state.session_factory, user_id, SECRET)
    done = _massicot("office", "reset-password", "CORR@lycee.fr", "--db", db_url)
    assert done.returncode == 0, done.stderr
    one_time = done.stdout.strip()
    assert len(one_time) >= auth.MIN_PASSWORD_LENGTH and one_time not in done.stderr
    assert "must choose his own password at the next login" in done.stderr
    assert "1 open session(s) of this account ended" in done.stderr
    client.cookies.set(auth.SESSION_COOKIE, old_cookie)
    assert client.get("/home", follow_redirects=False).status_code == 401
    assert _login(client, "corr@lycee.fr", PASSWORD).status_code == 401
    logged = _login(client, "corr@lycee.fr", one_time)
    assert logged.status_code == 303 and logged.headers["location"] == PAGE
    # Nothing else opens before he has chosen his own password.
    assert client.get("/marking", follow_redirects=False).headers["location"] == PAGE
    api = client.get("/api/marking/copies/X", headers={"accept": "application/json"})
    assert api.status_code == 403 and "Choose your own password first" in api.json()["detail"]
    form = client.get(PAGE)
    assert "pour une seule fois" in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    assert _change(client, csrf, one_time, NEW).status_code == 303
    assert client.get("/home").status_code == 200
    with client.app.state.session_factory() as s:
        assert s.get(User, user_id).must_change_password is False
    assert _login(client, "corr@lycee.fr", one_time).status_code == 401


def test_office_reset_of_an_unknown_account_says_so(db_url) -> None:
    done = _massicot("office", "reset-password", "nobody@nowhere.fr", "--db", db_url)
    assert done.returncode == 2
    assert "No account has the username 'nobody@nowhere.fr'" in done.stderr
    assert "Traceback" not in done.stderr
