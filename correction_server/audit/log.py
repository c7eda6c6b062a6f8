"""Appending to and verifying the hash-chained audit log.

`record(...)` is called inside the transaction that makes the change it records, so the
change and its trace are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import false, select, update
from sqlalchemy.orm import Session

from correction_server.audit.actors import SYSTEM, Actor
from correction_server.models.audit import AuditEntry
from massicot_core.contract import canonical_json

GENESIS_HASH = "0" * 64
# Serialises appends on PostgreSQL; any constant shared by every server process works.
_PG_AUDIT_LOCK = 7_461_226_002
__all__ = ["SYSTEM", "Actor", "ChainCheck", "record", "verify_chain"]


def _plain(value: object) -> object:
    """JSON-safe, and the same before and after a database round trip."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def entry_hash(
    *,
    seq: int,
    at: str,
    actor_id: int | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict,
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "at": at,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    details: dict | None = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        last = _locked_head(session)
    else:
        # SQLite: a transaction that has only read so far holds no write lock, so another writer
        # could append between our read of the head and our insert. A write that changes no row
        # takes the lock first (waiting for the other writer), then the head is read.
        session.execute(update(AuditEntry).where(false()).values(seq=AuditEntry.seq))
        last = session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    own = _entry_fields(actor, action, object_type, object_id, details)
    fields = {"seq": seq, **own, "prev_hash": prev_hash}
    entry = AuditEntry(**fields, hash=entry_hash(**fields))
    session.add(entry)
    session.flush()
    return entry


def _entry_fields(
    actor: Actor, action: str, object_type: str, object_id: str | int, details: dict | None
) -> dict:
    """An entry's own fields, without its place in the chain (seq, prev_hash)."""
    return {
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor.user_id,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "details": _plain(details or {}),
    }


def record_and_commit(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    details: dict | None = None,
) -> None:
    """Append one entry as the last write of the caller's transaction, and commit it.

    On PostgreSQL the lock, the entry and the commit travel in ONE round trip, so the append
    lock is held only while the server writes the entry and flushes the commit: no wait for
    this process between taking the lock and releasing it. The entry's hash is computed by the
    database from the previous entry it reads under the lock; it is the same hash as
    `entry_hash`, because the canonical JSON of an entry ends with its two chain fields
    ("prev_hash", then "seq": keys are sorted), so everything before them is built here.
    Elsewhere: `record`, then commit.
    """
    if session.get_bind().dialect.name != "postgresql":
        record(session, actor, action, object_type, object_id, details)
        session.commit()
        return
    from psycopg import sql

    fields = _entry_fields(actor, action, object_type, object_id, details)
    head = canonical_json(fields).decode()[:-1] + ","  # '{...,' : the chain fields follow
    table = AuditEntry.__tablename__
    statement = sql.SQL(
        "SELECT pg_advisory_xact_lock({lock}); "
        "INSERT INTO {table} (seq, at, actor_id, actor_role, action, object_type, object_id, details, "
        "prev_hash, hash) "
        "SELECT last.seq + 1, {at}, {actor_id}, {actor_role}, {action}, {object_type}, {object_id}, "
        '{details}::json, last.hash, encode(sha256(convert_to({head} || \'"prev_hash":"\' || last.hash '
        "|| '\",\"seq\":' || (last.seq + 1)::text || '}}', 'UTF8')), 'hex') "
        "FROM (SELECT COALESCE(MAX(seq), 0) AS seq, "
        "COALESCE((SELECT hash FROM {table} ORDER BY seq DESC LIMIT 1), {genesis}) AS hash "
        "FROM {table}) AS last; "
        "COMMIT"
    ).format(
        lock=sql.Literal(_PG_AUDIT_LOCK),
        table=sql.Identifier(table),
        details=sql.Literal(json.dumps(fields["details"], ensure_ascii=False)),
        head=sql.Literal(head),
        genesis=sql.Literal(GENESIS_HASH),
        **{k: sql.Literal(fields[k]) for k in ("at", "actor_id", "actor_role", "action", "object_type")},
        object_id=sql.Literal(fields["object_id"]),
    )
    connection = session.connection().connection
    cursor = connection.cursor()
    try:
        cursor.execute(statement.as_string(connection.driver_connection))
    finally:
        cursor.close()
    # The database has committed; the session's own commit finds nothing left to do.
    session.commit()


def _locked_head(session: Session) -> tuple[int, str] | None:
    """PostgreSQL: take the append lock and read the chain's last entry in one round trip.

    The lock is held until the transaction ends, so every writer waits for the one before it
    to commit: the fewer round trips between taking it and committing, the more saves per
    second. Sent as one simple query of two statements; in READ COMMITTED the SELECT takes its
    own snapshot once the lock is granted, so it sees the entry the previous holder committed.
    """
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            f"SELECT pg_advisory_xact_lock({_PG_AUDIT_LOCK}); "
            f"SELECT seq, hash FROM {AuditEntry.__tablename__} ORDER BY seq DESC LIMIT 1"
        )
        cursor.nextset()
        return cursor.fetchone()
    finally:
        cursor.close()


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_broken_seq: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None


def verify_chain(session: Session, batch: int = 5000) -> ChainCheck:
    """Re-walk the chain from the start; report the first entry whose link or content is wrong."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    query = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for entry in session.scalars(query):
        count += 1
        if entry.seq != expected_seq:
            return ChainCheck(count, expected_seq, f"entry {expected_seq} is missing (next is {entry.seq})")
        if entry.prev_hash != expected_prev:
            return ChainCheck(count, entry.seq, f"entry {entry.seq} does not follow entry {entry.seq - 1}")
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_role=entry.actor_role,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return ChainCheck(count, entry.seq, f"entry {entry.seq} was changed after it was written")
        expected_prev = entry.hash
        expected_seq += 1
    return ChainCheck(count, None, None)
