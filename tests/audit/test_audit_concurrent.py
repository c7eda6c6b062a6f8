"""Writers appending at the same moment (many server threads and processes) keep one chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import func, select

from correction_server.audit.log import Actor, record, record_and_commit, verify_chain
from correction_server.db import transaction
from correction_server.models.audit import AuditEntry

WRITERS = 8
EACH = 25
# What a corrector may type: quotes, a backslash, accents, a closing brace.
AWKWARD = 'L\'élève "cite" C:\\copie }, ok ; COMMIT;'


def test_concurrent_appends_form_one_intact_chain(session_factory):
    def writer(n: int) -> None:
        for i in range(EACH):
            details = {"i": i, "appreciation": AWKWARD, "total": Decimal("12.50"), "marks": {"7": None}}
            if n % 2:
                with transaction(session_factory) as session:
                    record(session, Actor(None, "corrector"), "marking.save", "copy", f"W{n}-{i}", details)
            else:
                with session_factory() as session:
                    record_and_commit(
                        session, Actor(None, "corrector"), "marking.save", "copy", f"W{n}-{i}", details
                    )

    with ThreadPoolExecutor(WRITERS) as pool:
        for future in [pool.submit(writer, n) for n in range(WRITERS)]:
            future.result()
    with session_factory() as session:
        check = verify_chain(session)
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        objects = session.scalar(select(func.count(func.distinct(AuditEntry.object_id))))
        details = list(session.scalars(select(AuditEntry.details)))
    assert check.intact, check.reason
    assert seqs == list(range(1, WRITERS * EACH + 1))  # no gap, no number given twice
    assert objects == WRITERS * EACH
    assert {d["appreciation"] for d in details} == {AWKWARD}
