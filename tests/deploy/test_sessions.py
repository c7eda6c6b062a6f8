"""Sessions end everywhere at once: a logout or a password change made through one server process
counts in the other at the next request (the login is read from the database every time)."""

from __future__ import annotations

import pytest

from correction_server.auth.sessions import SESSION_COOKIE
from testkit.deployment import PASSWORD, client, cookies, csrf_of, home_status, log_in, session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_a_login_through_nginx_then_a_logout_on_one_process_ends_it_on_the_other(site):
    first, second = site.deployment.server_urls
    with client() as http:
        cookie = session_cookie(log_in(http, site.url, "corrector1"))
        # The cookie signed by whichever process took the login works on both.
        assert home_status(http, first, cookie) == 200
        assert home_status(http, second, cookie) == 200
        csrf = csrf_of(http, first, cookie)
        bye = http.post(
            f"{first}/logout", headers={"X-CSRF-Token": csrf, **cookies(**{SESSION_COOKIE: cookie})}
        )
        assert bye.status_code == 303
        assert home_status(http, second, cookie) == 401
        assert home_status(http, site.url, cookie) == 401


def test_a_password_change_on_one_process_ends_the_other_logins_on_the_other(site):
    first, second = site.deployment.server_urls
    with client() as http:
        kept = session_cookie(log_in(http, site.url, "corrector2"))
        other = session_cookie(log_in(http, site.url, "corrector2"))
        assert home_status(http, second, other) == 200
        csrf = csrf_of(http, first, kept)
        new_password = "une autre phrase de passe bien longue"
        changed = http.post(
            f"{first}/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": new_password,
                "confirm": new_password,
                "csrf_token": csrf,
            },
            headers=cookies(**{SESSION_COOKIE: kept}),
        )
        assert changed.status_code == 303, changed.text
        assert home_status(http, second, other) == 401
        assert home_status(http, second, kept) == 200
        # The new password works through nginx, whichever process takes it; the old one no longer.
        assert log_in(http, site.url, "corrector2", PASSWORD).status_code == 401
        assert log_in(http, site.url, "corrector2", new_password).status_code == 303
