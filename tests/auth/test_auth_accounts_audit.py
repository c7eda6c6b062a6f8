"""Accounts created or changed by `massicot office users import`, and set-password links issued by
`massicot office users link`, leave a trace in the audit log: never a password, a hash or a link.

The commands run as the office runs them (subprocesses on the real database, SQLite and
PostgreSQL). Each test reads the log back as raw rows (every column as text), so a secret hidden in
any column, not only in `details`, is found; and `massicot audit verify` re-walks the chain.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.models import ExamSession, Paper, User
from correction_server.office import accounts

MASSICOT = str(Path(sys.executable).with_name("massicot"))
SECRET = "accounts-audit-test-secret"
HEADER = "name,email,establishment_uai,papers,capacity,role\n"
ANNE = "Anne Martin,Anne.Martin@ac-aix.fr,0130040Y,U3 U4:40,120,\n"
PAUL = "Paul Durand,paul.durand@ac-aix.fr,0130041Z,U3,90,corrector\n"
INES = "Inès Roux,ines.roux@ac-aix.fr,,U3,,coordinator\n"
LINK_RE = re.compile(r"https?://\S+/password/(\S+)")


def _massicot(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MASSICOT_SECRET_KEY": SECRET}
    return subprocess.run([MASSICOT, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture
def url(db_url: str) -> str:
    """A migrated database (SQLite and PostgreSQL) with the papers U3 and U4."""
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        exam = ExamSession(name="BTS 2026")
        s.add_all([Paper(session=exam, code=c, max_mark=Decimal(20)) for c in ("U3", "U4")])
        s.commit()
    engine.dispose()
    return db_url


def _log(url: str) -> list[dict]:
    """Every audit entry as its raw row, in chain order."""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return [dict(r) for r in c.execute(text("SELECT * FROM audit_entry ORDER BY seq")).mappings()]
    finally:
        engine.dispose()


def _details(entry: dict) -> dict:
    details = entry["details"]
    return json.loads(details) if isinstance(details, str) else details  # SQLite: raw JSON text


def _by_user(entries: list[dict]) -> dict[str, dict]:
    found = {_details(e)["username"]: e for e in entries}
    assert len(found) == len(entries), "one entry per account"
    return found


def _hashes(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return [u.password_hash for u in s.scalars(select(User)) if u.password_hash]
    finally:
        engine.dispose()


def _assert_secret_free_and_intact(url: str, secrets: list[str]) -> None:
    """No password, hash, token or link in any column of any entry; `massicot audit verify` passes."""
    whole = "\n".join(repr(sorted(e.items(), key=lambda kv: kv[0])) for e in _log(url))
    hashes = _hashes(url)
    for secret in [*secrets, *hashes, *(h[-16:] for h in hashes)]:  # a link carries a hash's tail
        assert secret and secret not in whole, secret
    for marker in ("$argon2", "/password/", "http"):
        assert marker not in whole, marker
    verified = _massicot("audit", "verify", "--db", url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "every link verified" in verified.stdout


def _import(url: str, csv: Path, *extra: str) -> subprocess.CompletedProcess:
    done = _massicot("office", "users", "import", str(csv), "--db", url, *extra)
    assert done.returncode == 0, done.stderr
    return done


def _shown_secrets(stdout: str) -> list[str]:
    """The passwords or links an import printed (username, role, secret separated by tabs)."""
    rows = [line.strip().split("\t") for line in stdout.splitlines() if line.count("\t") == 2]
    assert rows
    return [row[2] for row in rows]


def test_created_accounts_are_logged_without_their_passwords(url, tmp_path) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + ANNE + PAUL + INES, encoding="utf-8")
    done = _import(url, csv, "--by", "M. Blanc (DIEC)")
    shown = _shown_secrets(done.stdout)
    assert len(shown) == 3
    log = _log(url)
    assert [e["action"] for e in log] == [accounts.ACCOUNT_CREATED] * 3
    entries = _by_user(log)
    anne = entries["anne.martin@ac-aix.fr"]
    assert (anne["actor_id"], anne["actor_role"], anne["object_type"]) == (None, "system", "user")
    assert _details(anne) == {
        "username": "anne.martin@ac-aix.fr",
        "role": "corrector",
        "establishment": "0130040Y",
        "papers": {"U3": 120, "U4": 40},
        "active": True,
        "first_password": "initial_password",
        "by": "M. Blanc (DIEC)",
        "file": "accounts.csv",
    }
    ines = _details(entries["ines.roux@ac-aix.fr"])
    assert (ines["role"], ines["establishment"], ines["papers"]) == ("coordinator", None, {"U3": 0})
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        ids = {u.username: str(u.id) for u in s.scalars(select(User))}
    engine.dispose()
    assert {name: e["object_id"] for name, e in entries.items()} == ids
    _assert_secret_free_and_intact(url, shown)


def test_accounts_created_with_links_log_the_expiry_never_the_link(url, tmp_path) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + ANNE + PAUL, encoding="utf-8")
    before = datetime.now(UTC).replace(microsecond=0)
    done = _import(url, csv, "--links", "--base-url", "https://massicot.ac-aix.fr")
    after = datetime.now(UTC)
    links = _shown_secrets(done.stdout)
    tokens = [LINK_RE.fullmatch(link).group(1) for link in links]
    assert len(tokens) == 2
    for entry in _by_user(_log(url)).values():
        details = _details(entry)
        assert details["first_password"] == "set_password_link"
        assert details["by"] == "exam office (command line)"  # no --by: as reset-password
        expires = datetime.fromisoformat(details["link_expires_at"])
        assert before + timedelta(days=7) <= expires <= after + timedelta(days=7)
    _assert_secret_free_and_intact(url, [*links, *tokens])


def test_an_unchanged_reimport_writes_nothing_and_a_change_writes_old_and_new(url, tmp_path) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + ANNE + PAUL + INES, encoding="utf-8")
    shown = _shown_secrets(_import(url, csv).stdout)
    created = _log(url)
    assert len(created) == 3

    again = _import(url, csv, "--by", "someone")
    assert "0 account(s) created, 0 changed, 3 unchanged" in again.stdout
    assert _log(url) == created  # not one entry more, and the earlier ones untouched

    # Anne moves to another établissement and gives U4 more copies; Paul takes U4 too and his name
    # is corrected; Inès's line is the same.
    csv.write_text(
        HEADER
        + "Anne Martin,Anne.Martin@ac-aix.fr,0130099K,U3 U4:60,120,\n"
        + "Paul Durand-Lévy,paul.durand@ac-aix.fr,0130041Z,U3 U4,90,corrector\n"
        + INES,
        encoding="utf-8",
    )
    changed = _import(url, csv, "--by", "Mme Lefèvre (DIEC)")
    assert "0 account(s) created, 2 changed, 1 unchanged" in changed.stdout
    log = _log(url)
    assert log[:3] == created
    assert [e["action"] for e in log[3:]] == [accounts.ACCOUNT_UPDATED] * 2
    updates = _by_user(log[3:])
    assert set(updates) == {"anne.martin@ac-aix.fr", "paul.durand@ac-aix.fr"}
    assert _details(updates["anne.martin@ac-aix.fr"]) == {
        "username": "anne.martin@ac-aix.fr",
        "changes": {
            "establishment": {"old": "0130040Y", "new": "0130099K"},
            "papers": {"U4": {"old": 40, "new": 60}},
        },
        "by": "Mme Lefèvre (DIEC)",
        "file": "accounts.csv",
    }
    assert _details(updates["paul.durand@ac-aix.fr"])["changes"] == {
        "name": {"old": "Paul Durand", "new": "Paul Durand-Lévy"},
        "papers": {"U4": {"old": None, "new": 90}},
    }
    for entry in log[3:]:
        assert (entry["actor_id"], entry["actor_role"]) == (None, "system")
        assert entry["object_id"] == _by_user(created)[_details(entry)["username"]]["object_id"]

    # The same changed file once more: already applied, so nothing more is written.
    assert "0 changed, 3 unchanged" in _import(url, csv).stdout
    assert _log(url) == log
    _assert_secret_free_and_intact(url, shown)


def test_a_refused_import_leaves_no_entry(url, tmp_path) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + INES, encoding="utf-8")
    _import(url, csv)
    first = _log(url)
    # A new account first, then a line that tries to change Inès's role: the whole file is
    # refused, and the entry already written for the new account goes with it.
    csv.write_text(
        HEADER + ANNE + "Inès Roux,ines.roux@ac-aix.fr,0130040Y,U3,10,corrector\n", encoding="utf-8"
    )
    refused = _massicot("office", "users", "import", str(csv), "--db", url)
    assert refused.returncode == 2 and "a role is not changed by import" in refused.stderr
    assert _log(url) == first
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        assert s.scalar(select(User).where(User.username == "anne.martin@ac-aix.fr")) is None
    engine.dispose()


def test_a_link_issued_names_whose_account_who_and_until_when(url, tmp_path) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + ANNE + INES, encoding="utf-8")
    shown = _shown_secrets(_import(url, csv).stdout)
    created = _log(url)

    before = datetime.now(UTC).replace(microsecond=0)
    issued = _massicot(
        "office", "users", "link", "ANNE.Martin@ac-aix.fr", "--by", "M. Blanc (DIEC)", "--db", url
    )
    after = datetime.now(UTC)
    assert issued.returncode == 0, issued.stderr
    link = issued.stdout.strip()
    token = LINK_RE.fullmatch(link).group(1)
    log = _log(url)
    assert log[:2] == created
    (entry,) = log[2:]
    assert entry["action"] == accounts.LINK_ISSUED
    assert (entry["actor_id"], entry["actor_role"], entry["object_type"]) == (None, "system", "user")
    assert entry["object_id"] == _by_user(created)["anne.martin@ac-aix.fr"]["object_id"]
    details = _details(entry)
    assert set(details) == {"username", "by", "expires_at"}
    assert (details["username"], details["by"]) == ("anne.martin@ac-aix.fr", "M. Blanc (DIEC)")
    expires = datetime.fromisoformat(details["expires_at"])
    assert before + timedelta(days=7) <= expires <= after + timedelta(days=7)
    # What the office is told: the moment in the session's zone (Europe/Paris by default).
    local = expires.astimezone(ZoneInfo("Europe/Paris"))
    assert local.strftime("%d/%m/%Y %H:%M") in issued.stderr

    # The link is a real one: the token it carries is accepted for Anne's account.
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        user = auth.user_for_set_password_token(s, token, SECRET)
        assert user is not None and user.username == "anne.martin@ac-aix.fr"
    engine.dispose()

    default = _massicot("office", "users", "link", "ines.roux@ac-aix.fr", "--db", url)
    assert default.returncode == 0, default.stderr
    second = _log(url)[-1]
    assert second["action"] == accounts.LINK_ISSUED
    assert _details(second)["by"] == "exam office (command line)"
    assert _details(second)["username"] == "ines.roux@ac-aix.fr"
    second_link = default.stdout.strip()
    _assert_secret_free_and_intact(
        url, [*shown, link, token, second_link, LINK_RE.fullmatch(second_link).group(1)]
    )


def test_a_refused_link_leaves_no_entry(url, tmp_path) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + ANNE, encoding="utf-8")
    _import(url, csv)
    first = _log(url)
    unknown = _massicot("office", "users", "link", "nobody@ac-aix.fr", "--by", "x", "--db", url)
    assert unknown.returncode == 2 and "No account" in unknown.stderr and "Traceback" not in unknown.stderr
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        s.scalar(select(User)).active = False
        s.commit()
    engine.dispose()
    disabled = _massicot("office", "users", "link", "anne.martin@ac-aix.fr", "--db", url)
    assert disabled.returncode == 2 and "disabled" in disabled.stderr
    assert disabled.stdout == ""
    assert _log(url) == first
