"""Locking the barème: once, audited, and refused twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from correction_server.audit.log import SYSTEM, verify_chain
from correction_server.db import transaction
from correction_server.dispatch.planning import find_paper
from correction_server.marking.scheme import lock_scheme
from correction_server.models.audit import AuditEntry
from correction_server.office.papers import import_paper
from massicot_core.errors import UserError

SAMPLES = Path(__file__).resolve().parents[2] / "massicot" / "samples"


def test_lock_is_recorded_in_the_audit_and_refused_twice(session_factory):
    import_paper(session_factory, SAMPLES / "paper_u3.yaml")
    with transaction(session_factory) as session:
        lock_scheme(session, find_paper(session, "U3"), SYSTEM)
    with session_factory() as session:
        paper = find_paper(session, "U3")
        assert paper.scheme_locked_at is not None
        entry = session.query(AuditEntry).filter_by(action="scheme.lock").one()
        assert entry.object_id == "U3" and len(entry.details["questions"]) == len(paper.questions)
        assert verify_chain(session).intact
    with pytest.raises(UserError, match="already locked"), transaction(session_factory) as session:
        lock_scheme(session, find_paper(session, "U3"), SYSTEM)
