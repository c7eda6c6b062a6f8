"""Password changes, link sets and resets leave a trace in the audit log, never the password.

Each test reads the log back as raw rows (every column as text), so a password or a hash hidden
in any field, not only in `details`, is found; and re-walks the hash chain after the writes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from correction_server.audit.log import verify_chain
from correction_server.auth import passwords
from correction_server.auth import sessions as auth
from correction_server.models import Role, User
from testkit.worlds.auth import PASSWORD, SECRET, login_cookie

NEW = "une phrase facile à retenir"
PAGE = "/account/password"


@pytest.fixture
def people(client) -> dict[str, int]:
    ids = {}
    with client.app.state.session_factory() as s:
        for name, role in (("corr@lycee.fr", Role.CORRECTOR), ("coord@ac.fr", Role.COORDINATOR)):
            user = User(username=name, role=role, password_hash=auth.hash_password(PASSWORD))
            s.add(user)
            s.flush()
            ids[name] = user.id
        s.commit()
    return ids


def _log(client) -> list[dict]:
    """Every audit entry as its raw row, in chain order."""
    with client.app.state.session_factory() as s:
        rows = s.execute(text("SELECT * FROM audit_entry ORDER BY seq")).mappings().all()
    return [dict(row) for row in rows]


def _password_entries(client) -> list[dict]:
    return [e for e in _log(client) if str(e["action"]).startswith("account.password")]


def _details(entry: dict) -> dict:
    details = entry["details"]
    if isinstance(details, str):  # SQLite gives the JSON column back as text on a raw read
        import json

        details = json.loads(details)
    return details


def _hash_of(client, user_id: int) -> str:
    with client.app.state.session_factory() as s:
        return s.get(User, user_id).password_hash


def _assert_secret_free_and_intact(client, secrets: list[str]) -> None:
    """No password or hash in any column of any entry; the chain still verifies."""
    whole = "\n".join(repr(sorted(entry.items(), key=lambda kv: kv[0])) for entry in _log(client))
    for secret in secrets:
        assert secret and secret not in whole
    assert "$argon2" not in whole
    with client.app.state.session_factory() as s:
        check = verify_chain(s)
    assert check.intact, check.reason


def _use_login(client, user_id: int) -> str:
    cookie, csrf = login_cookie(client.app.state.session_factory, user_id, SECRET)
    client.cookies.clear()
    client.cookies.set(auth.SESSION_COOKIE, cookie)
    return csrf


def _change(client, csrf: str, current: str, new: str, confirm: str | None = None):
    data = {
        "current_password": current,
        "new_password": new,
        "confirm": new if confirm is None else confirm,
        "csrf_token": csrf,
    }
    return client.post(PAGE, data=data, follow_redirects=False)


def _massicot(*args: str) -> subprocess.CompletedProcess:
    massicot = str(Path(sys.executable).parent / "massicot")
    env = {**os.environ, "MASSICOT_SECRET_KEY": SECRET}
    return subprocess.run([massicot, *args], capture_output=True, text=True, env=env, timeout=120)


def test_own_change_is_logged_as_the_person_without_the_password(client, people) -> None:
    user_id = people["coord@ac.fr"]
    old_hash = _hash_of(client, user_id)
    other_cookie, _ = login_cookie(client.app.state.session_factory, user_id, SECRET)
    assert other_cookie
    csrf = _use_login(client, user_id)
    # Refusals change nothing, so they leave nothing in the log either.
    assert _change(client, csrf, PASSWORD, NEW, NEW + "!").status_code == 400
    assert _change(client, csrf, "not my password", NEW).status_code == 400
    assert _password_entries(client) == []
    assert _change(client, csrf, PASSWORD, NEW).status_code == 303
    entries = _password_entries(client)
    assert len(entries) == 1
    entry = entries[0]
    assert entry["action"] == passwords.CHANGED
    assert (entry["actor_id"], entry["actor_role"]) == (user_id, "coordinator")
    assert (entry["object_type"], entry["object_id"]) == ("user", str(user_id))
    assert _details(entry) == {"username": "coord@ac.fr", "replaced_one_time": False, "sessions_ended": 1}
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", entry["at"])
    new_hash = _hash_of(client, user_id)
    assert new_hash != old_hash
    _assert_secret_free_and_intact(client, [NEW, PASSWORD, old_hash, new_hash])


def test_set_password_link_is_logged_without_the_password(client, people) -> None:
    user_id = people["corr@lycee.fr"]
    old_hash = _hash_of(client, user_id)
    with client.app.state.session_factory() as s:
        token = auth.set_password_token(s.get(User, user_id), SECRET)
    form = client.get(f"/password/{token}")
    pre = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    refused = client.post(f"/password/{token}", data={"password": "x", "confirm": "x", "csrf_token": pre})
    assert refused.status_code == 400 and _password_entries(client) == []
    chosen = "a brand new passphrase"
    done = client.post(
        f"/password/{token}",
        data={"password": chosen, "confirm": chosen, "csrf_token": pre},
        follow_redirects=False,
    )
    assert done.status_code == 303
    (entry,) = _password_entries(client)
    assert entry["action"] == passwords.SET_BY_LINK
    assert (entry["actor_id"], entry["actor_role"], entry["object_id"]) == (
        user_id,
        "corrector",
        str(user_id),
    )
    assert _details(entry)["username"] == "corr@lycee.fr"
    _assert_secret_free_and_intact(client, [chosen, PASSWORD, token, old_hash, _hash_of(client, user_id)])


def test_office_reset_names_who_and_whose_then_the_forced_change_follows(client, people, db_url) -> None:
    user_id = people["corr@lycee.fr"]
    old_hash = _hash_of(client, user_id)
    done = _massicot(
        "office", "reset-password", "corr@lycee.fr", "--by", "Mme Lefèvre (DIEC)", "--db", db_url
    )
    assert done.returncode == 0, done.stderr
    one_time = done.stdout.strip()
    assert len(one_time) >= auth.MIN_PASSWORD_LENGTH
    (reset,) = _password_entries(client)
    assert reset["action"] == passwords.RESET
    assert (reset["actor_id"], reset["actor_role"]) == (None, "system")
    assert (reset["object_type"], reset["object_id"]) == ("user", str(user_id))
    assert _details(reset) == {"username": "corr@lycee.fr", "by": "Mme Lefèvre (DIEC)", "sessions_ended": 0}
    reset_hash = _hash_of(client, user_id)
    _assert_secret_free_and_intact(client, [one_time, PASSWORD, old_hash, reset_hash])

    # The owner replaces the one-time password: the log says it was the forced change.
    csrf = _use_login(client, user_id)
    assert _change(client, csrf, one_time, NEW).status_code == 303
    reset_again, changed = _password_entries(client)
    assert reset_again == reset  # the earlier entry is untouched
    assert changed["action"] == passwords.CHANGED and changed["seq"] > reset["seq"]
    assert changed["prev_hash"] == _log(client)[-2]["hash"]
    assert _details(changed)["replaced_one_time"] is True
    _assert_secret_free_and_intact(
        client, [one_time, NEW, PASSWORD, old_hash, reset_hash, _hash_of(client, user_id)]
    )
    verified = _massicot("audit", "verify", "--db", db_url)
    assert verified.returncode == 0 and "2 entries, every link verified" in verified.stdout


def test_office_reset_without_by_names_the_command_line(client, people, db_url) -> None:
    done = _massicot("office", "reset-password", "COORD@ac.fr", "--db", db_url)
    assert done.returncode == 0, done.stderr
    (reset,) = _password_entries(client)
    assert _details(reset)["by"] == passwords.COMMAND_LINE_OFFICE == "exam office (command line)"
    assert _details(reset)["username"] == "coord@ac.fr"
    _assert_secret_free_and_intact(client, [done.stdout.strip(), _hash_of(client, people["coord@ac.fr"])])


def test_a_refused_reset_leaves_no_entry(client, people, db_url) -> None:
    with client.app.state.session_factory() as s:
        s.get(User, people["corr@lycee.fr"]).active = False
        s.commit()
    done = _massicot("office", "reset-password", "corr@lycee.fr", "--by", "someone", "--db", db_url)
    assert done.returncode == 2 and "disabled" in done.stderr
    assert _password_entries(client) == []
