"""What the tests of the several-host topology (tests/deploy, deploy/up_local.py) share: the site
they run on, and logging in over real HTTP, with the cookies each request sends named explicitly."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from correction_server.auth.sessions import PRE_LOGIN_COOKIE, SESSION_COOKIE
from deploy.up_local import LocalDeployment
from testkit.worlds.marking import World

PASSWORD = "une phrase de passe assez longue"


@dataclass
class Site:
    deployment: LocalDeployment
    marking: World  # one paper, correctors' lots (testkit.worlds.marking), password PASSWORD

    @property
    def url(self) -> str:
        return self.deployment.url


def client(local_address: str | None = None) -> httpx.Client:
    """An HTTP client that keeps no cookies of its own: each request says which it sends
    (`cookies(...)`), as two browsers, or a copied cookie, would."""
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    made = httpx.Client(transport=transport, timeout=30, follow_redirects=False)
    # The jar took the answer's cookies before this hook runs; the answer itself keeps them.
    made.event_hooks["response"] = [lambda _answer: made.cookies.clear()]
    return made


def cookies(**values: str) -> dict[str, str]:
    """The Cookie header of a request."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in values.items())}


def pre_login(http: httpx.Client, base: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """(the login form's token, its cookie) from GET /login."""
    page = http.get(f"{base}/login", headers=headers or {})
    assert page.status_code == 200, page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return token.group(1), page.cookies[PRE_LOGIN_COOKIE]


def log_in(
    http: httpx.Client,
    base: str,
    username: str,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    token, pre = pre_login(http, base, headers)
    return http.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/home"},
        headers={**(headers or {}), **cookies(**{PRE_LOGIN_COOKIE: pre})},
    )


def session_cookie(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    return answer.cookies[SESSION_COOKIE]


def csrf_of(http: httpx.Client, base: str, cookie: str) -> str:
    page = http.get(f"{base}/home", headers=cookies(**{SESSION_COOKIE: cookie}))
    assert page.status_code == 200, page.status_code
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def home_status(http: httpx.Client, base: str, cookie: str) -> int:
    """/home asked as a script would: 200 logged in, 401 not."""
    headers = {"Accept": "application/json", **cookies(**{SESSION_COOKIE: cookie})}
    return http.get(f"{base}/home", headers=headers).status_code
