"""Findings 1, 3, 4, 5, 6 and 7 of issue 19, each as a test that failed on the code before the fix.

(Finding 2, the station's facts, is tests/hostile/test_push_facts.py.) In-process on the real
application (SQLite and PostgreSQL) except the forwarded-header rule, which is about what the
real server process (`massicot serve`, uvicorn) believes, so it runs against one.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.models import Comment
from correction_server.web.rendering import TEMPLATE_DIR
from testkit.hostile import CENTRE_A
from testkit.worlds.auth import SECRET, build_world, login_cookie, make_client

HOSTILE_TEXTS = ["<!--<script>", "</script><script>alert(1)</script>", "a & b <b> \u2028 ]]> -->"]


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    built = build_world(factory, SECRET)
    with make_client(db_url, tmp_path / "store") as client:
        yield client, built, factory
    engine.dispose()


def _as(client, factory, world, role: str) -> dict[str, str]:
    client.cookies.clear()
    cookie, csrf = login_cookie(factory, world.accounts[role].user_id, SECRET)
    client.cookies.set(auth.SESSION_COOKIE, cookie)
    return {auth.CSRF_HEADER: csrf}


# --- 1. embedded JSON ------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_script_json_is_inert_for_the_html_parser(text: str) -> None:
    from correction_server.web.rendering import script_json

    out = str(script_json({"t": text}))
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == {"t": text}


def test_the_copy_page_embeds_saved_comments_inertly(world) -> None:
    client, built, factory = world
    with factory() as session:
        session.execute(update(Comment).values(text=HOSTILE_TEXTS[0] + " " + HOSTILE_TEXTS[1]))
        session.commit()
    _as(client, factory, built, "corrector")
    copy_id = built.objects["corrector"]["copy_id"][0]
    page = client.get(f"/marking/copies/{copy_id}")
    assert page.status_code == 200
    # What the HTML parser takes as the boot element's text: up to the first "</script".
    start = page.text.index('<script id="boot" type="application/json">') + len(
        '<script id="boot" type="application/json">'
    )
    inside = page.text[start : page.text.index("</script", start)]
    assert "<!--" not in inside and "<script" not in inside.lower()
    boot = json.loads(inside)
    assert any(HOSTILE_TEXTS[0] in entry["text"] for entry in boot["bank"])


def test_no_template_runs_inline_script() -> None:
    """The Content-Security-Policy allows scripts from files only: no inline code, no handlers."""
    for template in TEMPLATE_DIR.glob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{template.name}: {tag}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{template.name} has an inline event handler"


# --- 3. malformed requests -------------------------------------------------------------------


def _routes_with_ids(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else []
        for ctx in contexts:
            methods = getattr(ctx.original_route, "methods", None) or []
            for method in methods:
                if method != "HEAD" and re.search(r"{\w*id}", ctx.path):
                    found.append((method, ctx.path))
    return sorted(set(found))


def test_ids_beyond_a_database_integer_answer_404_on_every_route(world) -> None:
    client, built, factory = world
    routes = _routes_with_ids(client.app)
    assert len(routes) >= 10
    checked = 0
    for role in ("office", "corrector", "coordinator"):
        headers = {**_as(client, factory, built, role), "accept": "application/json"}
        for method, path in routes:
            for huge in (2**63, 2**70, -(2**64)):
                url = path
                for name in re.findall(r"{(\w+)}", path):
                    value = (
                        huge if name.endswith("id") and name != "copy_id" else built.objects[role][name][0]
                    )
                    url = url.replace("{" + name + "}", str(value))
                answer = client.request(method, url, headers=headers, follow_redirects=False)
                assert answer.status_code < 500, (role, method, url, answer.status_code)
                checked += 1
    assert checked >= 90


def test_deeply_nested_json_on_the_push_api_is_a_4xx(pushing) -> None:
    deep = "[" * 5000 + "]" * 5000
    for headers in ({}, pushing.bearer(CENTRE_A)):
        answer = pushing.client.post(
            "/api/v1/lots", content=deep, headers={**headers, "content-type": "application/json"}
        )
        assert 400 <= answer.status_code < 500, answer.status_code
        assert "detail" in answer.json()


def test_deeply_nested_json_on_the_marking_api_is_a_4xx(world) -> None:
    client, built, factory = world
    headers = {**_as(client, factory, built, "corrector"), "content-type": "application/json"}
    copy_id = built.objects["corrector"]["copy_id"][0]
    answer = client.put(
        f"/api/marking/copies/{copy_id}", content='{"a":' * 3000 + "1" + "}" * 3000, headers=headers
    )
    assert 400 <= answer.status_code < 500


# --- 4. bodies bounded before they are read, credentials first --------------------------------


def _asgi(app, method: str, path: str, headers: dict[str, str], chunks, size: int | None = None):
    """Send a request straight to the ASGI app; (status, bytes of the body the app pulled)."""
    pulled = 0
    status: list[int] = []
    iterator = iter(chunks)

    async def receive():
        nonlocal pulled
        chunk = next(iterator, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if size is not None:
        raw.append((b"content-length", str(size).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *raw],
        "client": ("203.0.113.7", 5000),
        "server": ("testserver", 80),
        "root_path": "",
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    return status[0], pulled


def _flood(total: int, piece: int = 64 * 1024):
    sent = 0
    while sent < total:
        sent += piece
        yield b"x" * piece


MIB = 1024 * 1024


def test_a_declared_flood_is_refused_before_a_byte_is_read(world) -> None:
    app = world[0].app
    for path in ("/login", "/api/v1/lots", "/api/marking/papers/1/comments"):
        status, pulled = _asgi(
            app, "POST", path, {"content-type": "application/json"}, _flood(100 * MIB), 100 * MIB
        )
        assert (status, pulled) == (413, 0), path


def test_a_streamed_flood_is_cut_at_the_route_class_ceiling(world) -> None:
    from correction_server.web.guard import SMALL_BODY_BYTES

    client, built, factory = world
    cookie, csrf = login_cookie(factory, built.accounts["corrector"].user_id, SECRET)
    headers = {
        "cookie": f"{auth.SESSION_COOKIE}={cookie}",
        auth.CSRF_HEADER: csrf,
        "content-type": "application/json",
    }
    paper = built.objects["corrector"]["paper_id"][0]
    status, pulled = _asgi(
        client.app, "POST", f"/api/marking/papers/{paper}/comments", headers, _flood(100 * MIB)
    )
    assert status == 413 and pulled <= SMALL_BODY_BYTES + 64 * 1024


def test_without_credentials_nothing_of_the_body_is_read(world) -> None:
    app = world[0].app
    for path, kind in (
        ("/api/v1/lots", "application/json"),
        ("/office/dispatch/1", "application/x-www-form-urlencoded"),
        ("/api/v1/lots/" + "a" * 64 + "/images/" + "b" * 64, "application/octet-stream"),
    ):
        method = "PUT" if "/images/" in path else "POST"
        status, pulled = _asgi(
            app, method, path, {"content-type": kind, "accept": "application/json"}, _flood(900 * 1024)
        )
        assert status == 401 and pulled == 0, (path, status, pulled)


# --- 5. forwarded headers only from trusted proxies --------------------------------------------


def test_trusted_proxies_rule() -> None:
    from correction_server.web.guard import TrustedProxies

    none = TrustedProxies(())
    assert not none.trusts("127.0.0.1")
    proxies = TrustedProxies(("10.0.0.0/24", "127.0.0.1"))
    assert proxies.trusts("10.0.0.7") and not proxies.trusts("10.0.1.7") and not proxies.trusts("junk")
    # The right-most address that is not a proxy: what a client puts in front is ignored.
    assert proxies.client("10.0.0.7", "6.6.6.6, 198.51.100.4, 10.0.0.3") == "198.51.100.4"
    assert proxies.client("10.0.0.7", "not-an-ip") == "10.0.0.7"


def _login_failures(base: str, forwarded: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base) as browser:
        for address in forwarded:
            pre = browser.get("/login").cookies.get(auth.PRE_LOGIN_COOKIE) or browser.cookies.get(
                auth.PRE_LOGIN_COOKIE
            )
            answer = browser.post(
                "/login",
                data={"username": "office@rectorat.fr", "password": "wrong wrong wrong", "csrf_token": pre},
                headers={"x-forwarded-for": address},
            )
            statuses.append(answer.status_code)
    return statuses


def test_the_real_server_does_not_believe_forwarded_for_from_an_untrusted_peer(tmp_path: Path) -> None:
    from correction_server.migrate import upgrade_database
    from testkit.push_setup import ServerProcess

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_database(url)
    engine = make_engine(url)
    build_world(make_session_factory(engine), SECRET)
    engine.dispose()
    server = ServerProcess(url, tmp_path / "store", tmp_path / "data", env={"MASSICOT_SECRET_KEY": SECRET})
    server.start()
    try:
        # Each attempt claims another address: from 127.0.0.1, untrusted, none of it counts.
        statuses = _login_failures(server.url, [f"198.51.100.{n}" for n in range(7)])
    finally:
        server.stop()
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429], statuses


def test_behind_a_trusted_proxy_each_client_has_his_own_count_and_secure_cookies(db_url, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from testkit.hostile import make_app

    engine = make_engine(db_url)
    build_world(make_session_factory(engine), SECRET, hashed=True)
    engine.dispose()
    app = make_app(db_url, tmp_path / "store", trusted_proxies=("10.0.0.2",))
    from testkit.worlds.auth import PASSWORD

    with TestClient(app, client=("10.0.0.2", 4000), base_url="http://massicot.example") as proxy:
        proxy.cookies.clear()
        pre = proxy.get("/login").cookies.get(auth.PRE_LOGIN_COOKIE)
        answer = proxy.post(
            "/login",
            data={"username": "office@rectorat.fr", "password": PASSWORD, "csrf_token": pre},
            headers={"x-forwarded-for": "198.51.100.20", "x-forwarded-proto": "https"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert auth.SESSION_COOKIE in cookie and "secure" in cookie.lower()
    # The peer itself, untrusted, sending the same headers: the scheme stays http.
    with TestClient(app, client=("203.0.113.50", 4000)) as direct:
        pre = direct.get("/login").cookies.get(auth.PRE_LOGIN_COOKIE)
        answer = direct.post(
            "/login",
            data={"username": "office@rectorat.fr", "password": PASSWORD, "csrf_token": pre},
            headers={"x-forwarded-for": "198.51.100.20", "x-forwarded-proto": "https"},
            follow_redirects=False,
        )
        assert answer.status_code == 303 and "secure" not in answer.headers["set-cookie"].lower()


# --- 6. security headers, the API description -------------------------------------------------


def test_every_answer_carries_the_security_headers(world) -> None:
    client, built, factory = world
    _as(client, factory, built, "corrector")
    copy_id = built.objects["corrector"]["copy_id"][0]
    for path in (
        "/login",
        "/home",
        f"/marking/copies/{copy_id}",
        f"/api/marking/copies/{copy_id}",
        "/nowhere",
    ):
        answer = client.get(path, headers={"accept": "text/html"})
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["cache-control"] == "no-store", path
    static = client.get("/static/massicot.css")
    assert (
        static.headers["x-content-type-options"] == "nosniff"
        and static.headers.get("cache-control") != "no-store"
    )


def test_the_api_description_is_the_offices_and_served_from_here(world) -> None:
    client, built, factory = world
    client.cookies.clear()
    assert client.get("/openapi.json", headers={"accept": "application/json"}).status_code == 401
    assert client.get("/docs", headers={"accept": "text/html"}, follow_redirects=False).status_code == 303
    _as(client, factory, built, "corrector")
    assert client.get("/openapi.json", headers={"accept": "application/json"}).status_code == 403
    _as(client, factory, built, "office")
    assert "/api/v1/lots" in client.get("/openapi.json").json()["paths"]
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source


# --- 7. logout counts in every server process at once --------------------------------------------


def test_logout_in_one_process_ends_the_login_in_another_at_once(tmp_path: Path) -> None:
    """Two `massicot serve` processes on one database: what one ends, the other refuses at once."""
    from correction_server.migrate import upgrade_database
    from testkit.push_setup import ServerProcess

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    built = build_world(factory, SECRET)
    env = {"MASSICOT_SECRET_KEY": SECRET}
    one = ServerProcess(url, tmp_path / "store", tmp_path / "one", env=env).start()
    two = ServerProcess(url, tmp_path / "store", tmp_path / "two", env=env).start()
    corrector = built.accounts["corrector"].user_id
    try:
        cookie, csrf = login_cookie(factory, corrector, SECRET)
        jar = {auth.SESSION_COOKIE: cookie}
        assert httpx.get(two.url + "/home", cookies=jar).status_code == 200  # process two has read it
        out = httpx.post(one.url + "/logout", cookies=jar, headers={auth.CSRF_HEADER: csrf})
        assert out.status_code == 303
        assert httpx.get(two.url + "/home", cookies=jar).status_code in (303, 401)
        # The office's command line ends every login of an account (no server process involved).
        cookie, _ = login_cookie(factory, corrector, SECRET)
        jar = {auth.SESSION_COOKIE: cookie}
        assert httpx.get(two.url + "/home", cookies=jar).status_code == 200
        with factory() as session:
            auth.close_all_sessions(session, corrector)
            session.commit()
        assert httpx.get(two.url + "/home", cookies=jar).status_code in (303, 401)
    finally:
        one.stop()
        two.stop()
        engine.dispose()
