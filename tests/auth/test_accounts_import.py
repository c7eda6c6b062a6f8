"""`massicot office users import`: accounts from a CSV, every bad line reported, all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.models import CorrectorPaper, Establishment, ExamSession, Paper, Role, User

MASSICOT = str(Path(sys.executable).with_name("massicot"))
GOOD = """name,email,establishment_uai,papers,capacity,role
Anne Martin,Anne.Martin@ac-aix.fr,0130040Y,U3 U4:40,120,
Paul Durand,paul.durand@ac-aix.fr,0130041Z,U3,90,corrector
Inès Roux,ines.roux@ac-aix.fr,,U3,,coordinator
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MASSICOT_SECRET_KEY": "import-test"}
    return subprocess.run([MASSICOT, *args], capture_output=True, text=True, timeout=300, env=env)


def _database(fresh_database) -> str:
    url = fresh_database("sqlite")
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        exam = ExamSession(name="BTS 2026")
        s.add_all([Paper(session=exam, code=c, max_mark=Decimal(20)) for c in ("U3", "U4")])
        s.commit()
    engine.dispose()
    return url


def test_import_creates_accounts_with_passwords_shown_once(fresh_database, tmp_path) -> None:
    url = _database(fresh_database)
    csv = tmp_path / "accounts.csv"
    csv.write_text(GOOD, encoding="utf-8")
    done = _run("office", "users", "import", str(csv), "--db", url)
    assert done.returncode == 0, done.stderr
    assert "3 account(s) created" in done.stdout
    rows = [line.split("\t") for line in done.stdout.splitlines() if "\t" in line]
    passwords = {user.strip(): secret.strip() for user, _role, secret in rows}
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        anne = s.scalar(select(User).where(User.username == "anne.martin@ac-aix.fr"))
        assert anne.role == Role.CORRECTOR and anne.display_name == "Anne Martin"
        assert auth.verify_password(anne.password_hash, passwords["anne.martin@ac-aix.fr"].strip())
        assert s.get(Establishment, anne.establishment_id).uai == "0130040Y"
        caps = {
            s.get(Paper, cp.paper_id).code: cp.capacity
            for cp in s.scalars(select(CorrectorPaper).where(CorrectorPaper.user_id == anne.id))
        }
        assert caps == {"U3": 120, "U4": 40}
        ines = s.scalar(select(User).where(User.username == "ines.roux@ac-aix.fr"))
        assert ines.role == Role.COORDINATOR
        first_hash = anne.password_hash
    again = _run("office", "users", "import", str(csv), "--db", url)
    assert again.returncode == 0 and "0 account(s) created, 0 changed, 3 unchanged" in again.stdout
    with make_session_factory(engine)() as s:
        anne = s.scalar(select(User).where(User.username == "anne.martin@ac-aix.fr"))
        assert anne.password_hash == first_hash  # a re-import never changes a password
    engine.dispose()


def test_bad_lines_are_all_reported_and_nothing_is_imported(fresh_database, tmp_path) -> None:
    url = _database(fresh_database)
    csv = tmp_path / "bad.csv"
    csv.write_text(
        GOOD
        + "No Mail,not-an-email,0130040Y,U3,10,\n"
        + "Bad School,bad@ac-aix.fr,13004,U3,10,\n"
        + "Unknown Paper,up@ac-aix.fr,0130040Y,U9,10,\n"
        + "Centre,centre@ac-aix.fr,0130040Y,U3,10,centre\n",
        encoding="utf-8",
    )
    refused = _run("office", "users", "import", str(csv), "--db", url)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    for expected in ("line 5", "not an e-mail", "line 6", "not a UAI", "line 8", "centre-token"):
        assert expected in refused.stderr, expected
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        assert s.scalars(select(User)).all() == []
    engine.dispose()
    csv.write_text(GOOD + "Unknown Paper,up@ac-aix.fr,0130040Y,U9,10,\n", encoding="utf-8")
    unknown = _run("office", "users", "import", str(csv), "--db", url)
    assert unknown.returncode == 2 and "paper U9 is unknown" in unknown.stderr


def test_links_instead_of_passwords(fresh_database, tmp_path) -> None:
    url = _database(fresh_database)
    csv = tmp_path / "accounts.csv"
    csv.write_text(GOOD, encoding="utf-8")
    done = _run(
        "office", "users", "import", str(csv), "--links", "--base-url", "https://massicot.ac.fr", "--db", url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("https://massicot.ac.fr/password/") == 3
