"""Login, session cookies, CSRF, rate limit, logout, set-password links and languages."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from correction_server import i18n
from correction_server.auth import sessions as auth
from correction_server.auth.access import can_see_copy, can_see_identity, corrector_can_see_copy
from correction_server.auth.login_limit import LOGIN_MAX_FAILURES, LoginRateLimiter
from correction_server.models import LoginSession, Role, User
from testkit.worlds.auth import PASSWORD, SECRET, make_client


def _pre_token(client) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _login(client, username: str, password: str = PASSWORD, **extra):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": _pre_token(client), **extra},
        follow_redirects=False,
    )


@pytest.fixture
def people(client):
    factory = client.app.state.session_factory
    with factory() as s:
        users = {}
        for name, role in (("office@ac.fr", Role.OFFICE), ("corr@lycee.fr", Role.CORRECTOR)):
            user = User(username=name, role=role, password_hash=auth.hash_password(PASSWORD))
            s.add(user)
            s.flush()
            users[name] = user.id
        s.commit()
    return users


def test_passwords_are_argon2_and_checked() -> None:
    hashed = auth.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert auth.verify_password(hashed, "correct horse battery")
    assert not auth.verify_password(hashed, "correct horse batterY")
    assert not auth.verify_password(None, "anything at all")
    with pytest.raises(auth.WeakPassword):
        auth.hash_password("short")


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(client, people) -> None:
    wrong = _login(client, "office@ac.fr", "not the password")
    assert wrong.status_code == 401 and "Identifiant ou mot de passe incorrect" in wrong.text
    done = _login(client, "OFFICE@ac.fr", next="/office/dispatch")
    assert done.status_code == 303 and done.headers["location"] == "/office/dispatch"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
    stolen = client.cookies.get(auth.SESSION_COOKIE)
    home = client.get("/home")
    assert home.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(auth.SESSION_COOKIE, stolen)  # a copied cookie dies with the session
    assert client.get("/home", follow_redirects=False).status_code == 401


def test_secure_cookie_over_https(db_url, tmp_path, people) -> None:
    with make_client(db_url, tmp_path / "s", base_url="https://testserver") as client:
        done = _login(client, "office@ac.fr")
        assert done.status_code == 303 and "Secure" in done.headers["set-cookie"]


def test_login_form_needs_its_token(client, people) -> None:
    client.get("/login")
    refused = client.post(
        "/login", data={"username": "office@ac.fr", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert refused.status_code == 400 and auth.SESSION_COOKIE not in client.cookies


def test_csrf_header_for_scripts_and_form_field_for_forms(client, people) -> None:
    _login(client, "office@ac.fr")
    page = client.get("/office/dispatch")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    bad = client.post("/office/dispatch/999", headers={auth.CSRF_HEADER: "wrong"})
    assert bad.status_code == 403
    by_header = client.post(
        "/office/dispatch/999", headers={auth.CSRF_HEADER: csrf, "accept": "application/json"}
    )
    by_form = client.post(
        "/office/dispatch/999", data={"csrf_token": csrf}, headers={"accept": "application/json"}
    )
    assert by_header.status_code == by_form.status_code == 404  # past the CSRF check: no such paper


def test_failed_logins_are_limited_per_username_and_ip(client, people) -> None:
    for _ in range(LOGIN_MAX_FAILURES):
        assert _login(client, "office@ac.fr", "guess guess").status_code == 401
    blocked = _login(client, "office@ac.fr")  # even the right password now waits
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "Trop d&#39;essais" in blocked.text
    assert _login(client, "corr@lycee.fr").status_code == 303  # another username is not blocked

    limiter = LoginRateLimiter(max_failures=2, window_seconds=60)
    with client.app.state.session_factory() as s:
        for _ in range(2):
            assert not limiter.begin(s, "a", "1.1.1.1").refused
        assert limiter.begin(s, " A", "1.1.1.1").retry_after > 0  # any case, any spaces: one account
        assert not limiter.begin(s, "a", "2.2.2.2").refused  # another address is not blocked


def test_tampered_expired_or_disabled_sessions_are_refused(client, people) -> None:
    factory = client.app.state.session_factory

    _login(client, "corr@lycee.fr")
    good = client.cookies.get(auth.SESSION_COOKIE)
    client.cookies.set(auth.SESSION_COOKIE, good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
    assert client.get("/home", follow_redirects=False).status_code == 401
    client.cookies.set(auth.SESSION_COOKIE, good)
    assert client.get("/home").status_code == 200
    with factory() as s:
        s.execute(update(LoginSession).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        s.commit()
    assert client.get("/home", follow_redirects=False).status_code == 401
    client.cookies.clear()  # the expired cookie was set by hand: a fresh login sets its own
    _login(client, "corr@lycee.fr")
    assert client.get("/home", follow_redirects=False).status_code == 200
    with factory() as s:
        s.execute(update(User).where(User.username == "corr@lycee.fr").values(active=False))
        s.commit()
    assert client.get("/home", follow_redirects=False).status_code == 401


def test_logout_is_seen_at_once_despite_the_login_cache(client, people) -> None:
    _login(client, "corr@lycee.fr")
    cookie = client.cookies.get(auth.SESSION_COOKIE)
    page = client.get("/home")
    assert page.status_code == 200  # the login is now in the process's cache
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set(auth.SESSION_COOKIE, cookie)  # a copied cookie, replayed at once
    assert client.get("/home", follow_redirects=False).status_code == 401


def test_browser_pages_redirect_to_login_and_next_is_kept_on_site(client, people) -> None:
    page = client.get("/office/dispatch", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/office/dispatch"
    done = _login(client, "office@ac.fr", next="//evil.example/")
    assert done.headers["location"] == "/home"


def test_wrong_role_gets_a_plain_page(client, people) -> None:
    _login(client, "corr@lycee.fr")
    page = client.get("/office/dispatch", headers={"accept": "text/html"})
    assert page.status_code == 403 and "Votre compte ne permet pas" in page.text


def test_a_set_password_link_shows_nothing_of_the_password_hash(client, people) -> None:
    # The token is signed, not encrypted: its payload is readable by whoever holds the link.
    factory = client.app.state.session_factory
    with factory() as s:
        user = s.get(User, people["corr@lycee.fr"])
        token, password_hash = auth.set_password_token(user, SECRET), user.password_hash
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    assert str(people["corr@lycee.fr"]) in payload  # the payload was read: the test can fail
    for start in range(len(password_hash) - 8):
        assert password_hash[start : start + 8] not in payload
    assert auth.user_for_set_password_token(factory(), token, SECRET) is not None
    assert auth.user_for_set_password_token(factory(), token, "another key") is None


def test_set_password_link_works_once(client, people) -> None:
    factory = client.app.state.session_factory
    with factory() as s:
        token = auth.set_password_token(s.get(User, people["corr@lycee.fr"]), SECRET)
    form = client.get(f"/password/{token}")
    pre = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    short = client.post(f"/password/{token}", data={"password": "x", "confirm": "x", "csrf_token": pre})
    assert short.status_code == 400
    new = "a brand new passphrase"
    done = client.post(
        f"/password/{token}",
        data={"password": new, "confirm": new, "csrf_token": pre},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get(f"/password/{token}").status_code == 404  # used: no longer valid
    assert _login(client, "corr@lycee.fr", new).status_code == 303


def test_french_by_default_english_on_request(client) -> None:
    page = client.get("/login")
    assert '<html lang="fr">' in page.text and "Connexion" in page.text
    switched = client.get("/lang/en?next=/login")
    assert '<html lang="en">' in switched.text and "Log in" in switched.text
    assert 'for="username"' in page.text and 'class="skip-link"' in page.text  # labels, skip link


def test_every_french_word_has_an_english_one() -> None:
    missing = sorted(set(i18n.CATALOGUE["fr"]) - set(i18n.CATALOGUE["en"]))
    assert not missing, f"no English for: {missing}"
    assert (
        i18n.translate("en", "login.too_many", minutes=3)
        == "Too many failed attempts. Try again in 3 minute(s)."
    )


def test_ownership_rules(session_factory) -> None:
    from testkit.worlds.auth import build_world

    world = build_world(session_factory, SECRET)
    with session_factory() as s:
        c1 = s.get(User, world.accounts["corrector"].user_id)
        k1 = s.get(User, world.accounts["coordinator"].user_id)
        office = s.get(User, world.accounts["office"].user_id)
        own, other = world.objects["corrector"]["copy_id"]
        assert corrector_can_see_copy(s, c1, own) and not corrector_can_see_copy(s, c1, other)
        u3_copy, u4_copy = world.objects["coordinator"]["copy_id"]
        assert can_see_copy(s, k1, u3_copy) and not can_see_copy(s, k1, u4_copy)
        assert can_see_copy(s, office, u4_copy) and not can_see_copy(s, office, "NOSUCHCOPY")
        assert can_see_identity(office) and not can_see_identity(c1) and not can_see_identity(k1)
