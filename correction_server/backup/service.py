"""Making a backup into a folder, and restoring one into an empty database and an empty store.

The database is dumped first, the store listed after: every page a dumped row names was
stored (and made durable) before its row was committed, so it is in the list. The images
are content-addressed and never change, so a second backup into the same folder copies only
the ones it does not hold yet.

A restore checks the whole backup before it writes anything (the dump against the hash the
manifest recorded, every image against its name), so a damaged backup leaves the empty
services empty. Both actions are in the audit log: the backup in the database it copied,
the restore in the database it made, after the entries the dump brought.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from correction_server.audit.actors import SYSTEM
from correction_server.audit.log import record
from correction_server.backup import manifest as manifests
from correction_server.backup.databases import DUMP_SUFFIX, Database, dump_is_readable
from correction_server.backup.manifest import Manifest, object_file
from correction_server.db import make_engine, make_session_factory, transaction
from correction_server.migrate import alembic_config
from correction_server.pages.objects import ObjectStore
from massicot_core.errors import Refused
from massicot_core.files import fsync_dir, sha256_file

BACKUP_MADE = "backup.made"
BACKUP_RESTORED = "backup.restored"
LOCK_FILE = ".backup.lock"
_BLOCK = 1 << 20
# Told after each image: (images done, images in all).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    kind: str
    revision: str
    total: int
    copied: int
    already: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    folder: Path
    revision: str
    objects: int
    seconds: float


# ---------------------------------------------------------------------------------- backup


def make_backup(
    database_url: str,
    store: ObjectStore,
    store_shown: str,
    folder: Path,
    by: str,
    progress: Progress | None = None,
) -> BackupReport:
    started = time.monotonic()
    database = Database(database_url)
    if folder.exists() and not folder.is_dir():
        raise Refused(400, "backup.folder_is_file", folder=folder)
    tables = database.tables("backup.unreachable")
    revision = database.revision() if "alembic_version" in tables else None
    if revision is None:
        raise Refused(400, "backup.empty_database", db=database.shown)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _only_backup_in(folder):
            return _backup_into(database, store, store_shown, folder, by, revision, progress, started)
    except OSError as exc:
        raise Refused(500, "backup.not_writable", folder=folder, reason=exc.strerror or str(exc)) from None


@contextmanager
def _only_backup_in(folder: Path) -> Iterator[None]:
    """Two backups writing one folder at once would each delete the other's dump."""
    with (folder / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(409, "backup.busy", folder=folder) from None
        yield


def _backup_into(
    database: Database,
    store: ObjectStore,
    store_shown: str,
    folder: Path,
    by: str,
    revision: str,
    progress: Progress | None,
    started: float,
) -> BackupReport:
    previous = manifests.load(folder, "backup.folder_damaged")
    for leftover in folder.glob(".database-*.partial"):
        leftover.unlink()  # an earlier backup stopped half-way
    made_at = datetime.now(UTC)
    dump_name = f"database-{made_at:%Y%m%dT%H%M%S%fZ}{DUMP_SUFFIX[database.kind]}"
    partial = folder / f".{dump_name}.partial"
    try:
        database.dump(partial)
        objects, copied, already = _copy_objects(store, store_shown, folder, previous, progress)
        os.sync()  # the images copied, on disk before the manifest names them
        final = folder / dump_name
        os.replace(partial, final)
        fsync_dir(folder)
    finally:
        partial.unlink(missing_ok=True)
    history = [
        *(previous.history if previous else []),
        {"made_at": made_at.isoformat(), "copied": copied},
    ]
    manifests.save(
        folder,
        Manifest(
            made_at=made_at.isoformat(),
            database_kind=database.kind,
            dump_file=dump_name,
            dump_sha256=sha256_file(final),
            dump_size=final.stat().st_size,
            alembic_revision=revision,
            objects=objects,
            history=history[-100:],
        ),
    )
    if previous and previous.dump_file != dump_name:
        (folder / previous.dump_file).unlink(missing_ok=True)
    details = {
        "folder": str(folder.resolve()),
        "by": by,
        "database": database.kind,
        "revision": revision,
        "dump": dump_name,
        "objects": len(objects),
        "copied": copied,
        "already": already,
    }
    _audit(database.url, BACKUP_MADE, dump_name, details)
    return BackupReport(
        folder, database.kind, revision, len(objects), copied, already, time.monotonic() - started
    )


def _copy_objects(
    store: ObjectStore,
    store_shown: str,
    folder: Path,
    previous: Manifest | None,
    progress: Progress | None,
) -> tuple[dict[str, int], int, int]:
    """Every image of the store into the folder, but those it holds already: (all, copied, already)."""
    held = {
        sha: size
        for sha, size in (previous.objects if previous else {}).items()
        if _size_of(object_file(folder, sha)) == size
    }
    names = sorted(_listed(store, store_shown))
    copied = already = 0
    for done, sha in enumerate(names, start=1):
        if sha in held:
            already += 1
        else:
            held[sha] = _copy_one(store, folder, sha)
            copied += 1
        if progress is not None:
            progress(done, len(names))
    return dict(sorted(held.items())), copied, already


def _copy_one(store: ObjectStore, folder: Path, sha: str) -> int:
    target = object_file(folder, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{sha}.partial")
    digest = hashlib.sha256()
    size = 0
    try:
        try:
            source = store.open(sha)
        except Exception as exc:  # noqa: BLE001 - a folder's or a bucket's refusal, in plain words
            raise Refused(
                500, "backup.unreadable_in_store", sha=sha, folder=folder, reason=str(exc)[:200]
            ) from None
        with source, partial.open("wb") as out:
            while block := source.read(_BLOCK):
                digest.update(block)
                out.write(block)
                size += len(block)
        # A damaged image copied under its name would be restored as a good one.
        if digest.hexdigest() != sha:
            raise Refused(500, "backup.damaged_in_store", sha=sha, folder=folder)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return size


def _listed(store: ObjectStore, store_shown: str) -> list[str]:
    try:
        return store.hashes()
    except Exception as exc:  # noqa: BLE001 - a folder's or a bucket's refusal, in plain words
        raise Refused(500, "backup.store_unreachable", store=store_shown, reason=str(exc)[:200]) from None


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------------------------- restore


def restore_backup(
    folder: Path,
    database_url: str,
    store: ObjectStore,
    store_shown: str,
    by: str,
    progress: Progress | None = None,
) -> RestoreReport:
    started = time.monotonic()
    found = manifests.load(folder, "restore.bad_manifest") if folder.is_dir() else None
    if found is None:
        raise Refused(400, "restore.no_backup", folder=folder, file=manifests.MANIFEST_FILE)
    database = Database(database_url)
    if found.database_kind != database.kind:
        raise Refused(
            400, "restore.kind_mismatch", kind=found.database_kind, target=database.kind, db=database.shown
        )
    _known_revision(found.alembic_revision)
    tables = database.tables("restore.unreachable")
    if tables:
        raise Refused(409, "restore.db_not_empty", db=database.shown, tables=len(tables), first=tables[0])
    present = _listed(store, store_shown)
    if present:
        raise Refused(409, "restore.store_not_empty", store=store_shown, count=len(present))
    dump = _checked_dump(folder, found)
    for sha in found.objects:
        _checked_object(folder, sha)

    database.restore(dump)
    revision = database.revision()
    if revision != found.alembic_revision:
        raise Refused(500, "restore.wrong_revision", found=revision or "-", revision=found.alembic_revision)
    _put_objects(folder, found, store, store_shown, progress)
    details = {
        "folder": str(folder.resolve()),
        "by": by,
        "made_at": found.made_at,
        "dump": found.dump_file,
        "revision": found.alembic_revision,
        "objects": len(found.objects),
    }
    _audit(database_url, BACKUP_RESTORED, found.dump_file, details)
    return RestoreReport(folder, found.alembic_revision, len(found.objects), time.monotonic() - started)


def _known_revision(revision: str) -> None:
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise Refused(400, "restore.unknown_revision", revision=revision)


def _checked_dump(folder: Path, found: Manifest) -> Path:
    dump = folder / found.dump_file
    if dump.parent != folder or not dump.is_file():
        raise Refused(400, "restore.dump_missing", file=dump)
    if dump.stat().st_size != found.dump_size or sha256_file(dump) != found.dump_sha256:
        raise Refused(400, "restore.dump_damaged", file=dump)
    if not dump_is_readable(found.database_kind, dump):
        raise Refused(400, "restore.dump_damaged", file=dump)
    return dump


def _checked_object(folder: Path, sha: str) -> bytes:
    path = object_file(folder, sha)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Refused(400, "restore.object_missing", file=path) from None
    if hashlib.sha256(data).hexdigest() != sha:
        raise Refused(400, "restore.object_damaged", file=path)
    return data


def _put_objects(
    folder: Path, found: Manifest, store: ObjectStore, store_shown: str, progress: Progress | None
) -> None:
    names = list(found.objects)
    for done, sha in enumerate(names, start=1):
        # Checked again as it is read: the folder may have changed since the first look.
        data = _checked_object(folder, sha)
        try:
            store.append_chunk(sha, 0, data, len(data))
        except Exception as exc:  # noqa: BLE001 - a folder's or a bucket's refusal, in plain words
            raise Refused(
                500,
                "restore.store_failed",
                file=object_file(folder, sha),
                store=store_shown,
                reason=str(exc)[:200],
            ) from None
        if progress is not None:
            progress(done, len(names))
    damaged = store.make_durable(names)
    if damaged:
        path = object_file(folder, damaged[0])
        raise Refused(500, "restore.store_failed", file=path, store=store_shown, reason="not stored whole")


def _audit(database_url: str, action: str, object_id: str, details: dict[str, object]) -> None:
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            record(session, SYSTEM, action, "backup", object_id, details)
    finally:
        engine.dispose()
