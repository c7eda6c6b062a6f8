"""What a restore refuses, in plain words and without writing anything: a database or a store that is
not empty, a damaged page image, a damaged or missing dump, a folder that is no backup; and a backup
that meets a damaged image in the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from correction_server.backup.manifest import object_file
from correction_server.pages.store import LocalStore
from testkit.worlds.backup import marked_world, massicot, row_counts


@pytest.fixture
def backup(db_url: str, tmp_path: Path) -> Path:
    """A backup of a small marked world (two page images) in tmp_path/backup."""
    store = LocalStore(tmp_path / "store")
    marked_world(db_url, store)
    folder = tmp_path / "backup"
    made = _run("office", "backup", str(folder), "--db", db_url, "--store", str(store.root), tmp=tmp_path)
    assert made.returncode == 0, made.stderr
    return folder


def _run(*args: str, tmp: Path):
    return massicot(*args, env={"MASSICOT_DATA": str(tmp / "cli-data")})


def _restore(folder: Path, db: str, store: Path, tmp: Path):
    return _run("office", "restore", str(folder), "--db", db, "--store", str(store), tmp=tmp)


def _refused(result, *words: str) -> str:
    """The error line, checked: exit code 2, the words said, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and "unexpected problem" not in said, result.stderr
    for word in words:
        assert word in said, said
    return said


def _no_tables(db: str) -> bool:
    if db.startswith("sqlite") and not Path(db.removeprefix("sqlite:///")).exists():
        return True
    return row_counts(db) == {}


def _untouched(db: str, store: Path) -> None:
    """Nothing was restored: the database has no tables, the store no images."""
    assert _no_tables(db)
    assert not LocalStore(store).hashes()


def test_restore_refuses_a_database_that_is_not_empty(backup: Path, db_url: str, tmp_path: Path):
    said = _refused(
        _restore(backup, db_url, tmp_path / "empty-store", tmp_path),
        "is not empty",
        "restored only into an empty database",
        "--db",
    )
    assert "password" not in said
    assert not LocalStore(tmp_path / "empty-store").hashes()


def test_restore_refuses_a_store_that_is_not_empty(backup: Path, empty_database: str, tmp_path: Path):
    full = LocalStore(tmp_path / "full-store")
    full.put(b"an image already there")
    _refused(
        _restore(backup, empty_database, full.root, tmp_path),
        "already holds 1 image(s)",
        "an empty folder or bucket",
    )
    assert full.hashes() and _no_tables(empty_database)


def test_a_damaged_image_is_refused_by_name_and_nothing_is_restored(
    backup: Path, empty_database: str, tmp_path: Path
):
    sha = sorted(json.loads((backup / "manifest.json").read_text())["objects"])[0]
    damaged = object_file(backup, sha)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one bit of rot, the size unchanged
    damaged.write_bytes(bytes(data))
    said = _refused(
        _restore(backup, empty_database, tmp_path / "empty-store", tmp_path),
        str(damaged),
        "is damaged",
        "nothing was restored",
    )
    assert said.count(sha) == 1
    _untouched(empty_database, tmp_path / "empty-store")


def test_a_missing_image_is_refused_by_name(backup: Path, empty_database: str, tmp_path: Path):
    sha = sorted(json.loads((backup / "manifest.json").read_text())["objects"])[-1]
    object_file(backup, sha).unlink()
    _refused(
        _restore(backup, empty_database, tmp_path / "empty-store", tmp_path),
        str(object_file(backup, sha)),
        "is missing",
    )
    _untouched(empty_database, tmp_path / "empty-store")


def test_a_truncated_dump_is_refused_by_name(backup: Path, empty_database: str, tmp_path: Path):
    dump = next(backup.glob("database-*"))
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    _refused(
        _restore(backup, empty_database, tmp_path / "empty-store", tmp_path),
        str(dump),
        "is damaged",
        "cannot be restored",
    )
    _untouched(empty_database, tmp_path / "empty-store")


def test_a_missing_dump_and_a_folder_that_is_no_backup_are_refused(
    backup: Path, empty_database: str, tmp_path: Path
):
    dump = next(backup.glob("database-*"))
    dump.unlink()
    _refused(_restore(backup, empty_database, tmp_path / "empty-store", tmp_path), str(dump), "is missing")
    elsewhere = tmp_path / "not-a-backup"
    elsewhere.mkdir()
    _refused(
        _restore(elsewhere, empty_database, tmp_path / "empty-store", tmp_path),
        "holds no backup",
        "manifest.json",
    )
    _untouched(empty_database, tmp_path / "empty-store")


def test_the_refusals_speak_french_too(backup: Path, db_url: str, tmp_path: Path):
    result = massicot(
        "office",
        "restore",
        str(backup),
        "--db",
        db_url,
        "--store",
        str(tmp_path / "empty-store"),
        env={"MASSICOT_DATA": str(tmp_path / "cli-data"), "MASSICOT_LANG": "fr"},
    )
    _refused(result, "n'est pas vide", "une base vide")


def test_a_backup_meeting_a_damaged_image_in_the_store_stops_and_keeps_the_previous_one(
    db_url: str, tmp_path: Path
):
    store = LocalStore(tmp_path / "store")
    marked_world(db_url, store)
    folder = tmp_path / "backup"
    args = ("office", "backup", str(folder), "--db", db_url, "--store", str(store.root))
    assert _run(*args, tmp=tmp_path).returncode == 0
    before = (folder / "manifest.json").read_text()
    rotten = store.put(b"a page that rots on the disk")
    store.object_path(rotten).write_bytes(b"a page that rots on the disc")
    said = _refused(_run(*args, tmp=tmp_path), rotten, "is damaged", "the previous one")
    assert "intact" in said
    # The folder still holds the earlier backup, whole: its manifest, its one dump, no half-written file.
    assert (folder / "manifest.json").read_text() == before
    assert [d.name for d in folder.glob("database-*")] == [json.loads(before)["dump_file"]]
    assert not list(folder.rglob(".*partial")) and not object_file(folder, rotten).exists()


def test_a_backup_goes_back_only_into_a_database_of_its_kind(backup: Path, db_url: str, tmp_path: Path):
    other = (
        "sqlite:///" + str(tmp_path / "x.sqlite3")
        if db_url.startswith("postgresql")
        else ("postgresql+psycopg://nobody@127.0.0.1:9/none")
    )
    kinds = ("postgresql", "sqlite") if db_url.startswith("postgresql") else ("sqlite", "postgresql")
    said = _refused(_restore(backup, other, tmp_path / "empty-store", tmp_path), "restore into a")
    assert f"holds a {kinds[0]} database" in said and f"is a {kinds[1]} database" in said
    assert not LocalStore(tmp_path / "empty-store").hashes()


def test_a_backup_of_a_newer_version_is_refused(backup: Path, empty_database: str, tmp_path: Path):
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["alembic_revision"] = "9999_from_the_future"
    (backup / "manifest.json").write_text(json.dumps(manifest))
    _refused(
        _restore(backup, empty_database, tmp_path / "empty-store", tmp_path),
        "9999_from_the_future",
        "does not know",
    )
    _untouched(empty_database, tmp_path / "empty-store")


@pytest.mark.postgres
def test_a_database_that_cannot_be_reached_is_said_so(fresh_database, pg_url: str, tmp_path: Path):
    missing = f"{pg_url}/no_such_database"
    store = tmp_path / "store"
    made = _run(
        "office", "backup", str(tmp_path / "backup"), "--db", missing, "--store", str(store), tmp=tmp_path
    )
    _refused(made, "cannot be reached", "no_such_database")
    url = fresh_database("postgresql")
    marked_world(url, LocalStore(store))
    assert (
        _run(
            "office", "backup", str(tmp_path / "backup"), "--db", url, "--store", str(store), tmp=tmp_path
        ).returncode
        == 0
    )
    _refused(
        _restore(tmp_path / "backup", missing, tmp_path / "empty-store", tmp_path),
        "cannot be reached",
        "createdb",
    )


def test_a_second_backup_into_a_folder_being_written_waits_its_turn(
    backup: Path, db_url: str, tmp_path: Path
):
    import fcntl

    from correction_server.backup.service import LOCK_FILE

    before = (backup / "manifest.json").read_text()
    with (backup / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # as a backup running now holds it
        args = ("office", "backup", str(backup), "--db", db_url, "--store", str(tmp_path / "store"))
        _refused(_run(*args, tmp=tmp_path), "Another backup is writing in", "wait until it has finished")
    assert (backup / "manifest.json").read_text() == before
    assert _run(*args, tmp=tmp_path).returncode == 0


@pytest.mark.slow
def test_a_bucket_that_does_not_exist_is_said_so(
    backup: Path, db_url: str, empty_database: str, tmp_path: Path, seaweed
):
    env = {**seaweed.environ(), "MASSICOT_DATA": str(tmp_path / "cli-data")}
    nowhere = "s3://no-such-bucket-here/pages"
    restored = massicot("office", "restore", str(backup), "--db", empty_database, "--store", nowhere, env=env)
    _refused(restored, "no-such-bucket-here", "cannot be read", "that it exists")
    assert _no_tables(empty_database)
    made = massicot("office", "backup", str(tmp_path / "other"), "--db", db_url, "--store", nowhere, env=env)
    _refused(made, "no-such-bucket-here", "cannot be read")
