"""The audit log is a hash chain: appends link, direct edits are refused or found."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from correction_server.audit.log import SYSTEM, Actor, record, verify_chain
from correction_server.db import transaction
from correction_server.models.audit import AuditEntry


def _append(session_factory, n: int) -> None:
    for i in range(n):
        with transaction(session_factory) as session:
            record(session, Actor(None, "office"), "mark.save", "copy", f"C{i}", {"points": i, "q": [1, 2]})


def _tamper(engine, statement: str) -> None:
    """What someone with the database's owner rights could do: drop the guard, then edit."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER audit_entry_no_delete"))
            conn.execute(text(statement))


def test_appended_entries_form_an_intact_chain(session_factory):
    _append(session_factory, 5)
    with session_factory() as session:
        check = verify_chain(session)
        entries = session.query(AuditEntry).order_by(AuditEntry.seq).all()
    assert check.intact and check.entries == 5
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))


@pytest.mark.parametrize("statement", ["UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"])
def test_update_and_delete_are_refused_by_the_database(engine, session_factory, statement):
    _append(session_factory, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with session_factory() as session:
        assert verify_chain(session).entries == 2


def test_a_changed_detail_is_found_at_its_entry(engine, session_factory):
    _append(session_factory, 4)
    _tamper(engine, 'UPDATE audit_entry SET details = \'{"points": 19, "q": [1, 2]}\' WHERE seq = 3')
    with session_factory() as session:
        check = verify_chain(session)
    assert not check.intact
    assert check.first_broken_seq == 3
    assert "changed" in check.reason


def test_a_deleted_entry_is_found(engine, session_factory):
    _append(session_factory, 4)
    _tamper(engine, "DELETE FROM audit_entry WHERE seq = 2")
    with session_factory() as session:
        check = verify_chain(session)
    assert check.first_broken_seq == 2 and "missing" in check.reason


def test_a_fork_of_the_chain_is_refused(session_factory):
    """Two writers that read the same head: the unique previous hash stops the second."""
    _append(session_factory, 1)
    with session_factory() as session:
        head = session.query(AuditEntry).one()
        fork = AuditEntry(
            seq=2,
            at=head.at,
            actor_id=None,
            actor_role="system",
            action="x",
            object_type="copy",
            object_id="C",
            details={},
            prev_hash=head.prev_hash,
            hash="f" * 64,
        )
        session.add(fork)
        with pytest.raises(IntegrityError):
            session.commit()


def test_verify_command_reports_the_broken_link(engine, session_factory, db_url):
    _append(session_factory, 3)
    command = [sys.executable, "-m", "massicot", "audit", "verify", "--db", db_url]
    ok = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "3 entries" in ok.stdout
    _tamper(engine, "UPDATE audit_entry SET actor_role = 'corrector' WHERE seq = 2")
    broken = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert "entry 2" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_system_actor_is_recorded(session_factory):
    with transaction(session_factory) as session:
        entry = record(session, SYSTEM, "export.jury", "paper", "U3")
    assert entry.actor_role == "system" and entry.actor_id is None
