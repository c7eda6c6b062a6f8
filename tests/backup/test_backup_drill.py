"""The restore drill: a server with pushed pages and a corrector's marks is backed up, restored into
a fresh empty database and a fresh empty store, and found whole there — on SQLite and PostgreSQL,
with the local folder and an S3 bucket (a real SeaweedFS)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from correction_server.backup.manifest import object_file
from correction_server.migrate import head_revision
from correction_server.pages.s3store import S3Store
from correction_server.pages.store import LocalStore
from testkit.push_helpers import CENTRE_A, run_push
from testkit.push_setup import ServerProcess, make_sealed_lot, seed_exam
from testkit.s3 import SeaweedS3
from testkit.worlds.backup import (
    MARK_TABLES,
    audit_actions,
    build_backup_world,
    marked_world,
    massicot,
    page_images_in_dump,
    row_counts,
    rows,
    store_contents,
    what_the_corrector_gets,
)

pytestmark = pytest.mark.slow


def _stores(kind: str, tmp_path: Path, request: pytest.FixtureRequest):
    """(source store, its --store option, the server's folder, env; target store, its option)."""
    if kind == "local":
        source, target = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "restored-store")
        return source, str(source.root), source.root, {}, target, str(target.root)
    seaweed: SeaweedS3 = request.getfixturevalue("seaweed")
    env = seaweed.environ()
    buckets = seaweed.new_bucket(), seaweed.new_bucket()
    source = S3Store(seaweed.client(), buckets[0], "pages")
    target = S3Store(seaweed.client(), buckets[1], "pages")
    server_env = {**env, "MASSICOT_STORE_URL": f"s3://{buckets[0]}/pages"}
    return (
        source,
        f"s3://{buckets[0]}/pages",
        tmp_path / "server-store",
        server_env,
        target,
        f"s3://{buckets[1]}/pages",
    )


@pytest.mark.parametrize("store_kind", ["local", "s3"])
def test_backup_then_restore_into_empty_services_gives_the_same_server(
    db_url: str, empty_database: str, tmp_path: Path, store_kind: str, request: pytest.FixtureRequest
):
    source, source_option, server_folder, env, target, target_option = _stores(store_kind, tmp_path, request)
    world = build_backup_world(db_url, source, server_folder, tmp_path, env)
    objects = store_contents(source)
    assert len(objects) == 2 + world.pushed_pages
    marks_before = {table: rows(db_url, table, order) for table, order in MARK_TABLES.items()}
    assert len(marks_before["question_mark"]) >= 8
    counts_before = row_counts(db_url)
    audit_before = rows(db_url, "audit_entry", "seq")
    env = {**env, "MASSICOT_DATA": str(tmp_path / "cli-data")}
    folder = tmp_path / "backup"

    made = massicot("office", "backup", str(folder), "--db", db_url, "--store", source_option, env=env)
    assert made.returncode == 0, made.stderr
    assert f"{len(objects)} copied now, 0 already there" in made.stdout
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["alembic_revision"] == head_revision()
    assert set(manifest["objects"]) == set(objects)
    assert not list(folder.glob(".*partial")) and len(list(folder.glob("database-*"))) == 1

    restored = massicot(
        "office", "restore", str(folder), "--db", empty_database, "--store", target_option, env=env
    )
    assert restored.returncode == 0, restored.stderr
    assert f"{len(objects)} page image(s)" in restored.stdout

    # Every page is there, and its bytes hash to its name.
    after = store_contents(target)
    assert set(after) == set(objects)
    assert all(name == actual for name, actual in after.items())
    # The corrector's marks, every row as it was.
    for table, order in MARK_TABLES.items():
        assert rows(empty_database, table, order) == marks_before[table], table
    # Every table as it was; the audit log holds the same entries, then the restore.
    assert row_counts(empty_database) == {**counts_before, "audit_entry": counts_before["audit_entry"] + 1}
    audit_after = rows(empty_database, "audit_entry", "seq")
    assert audit_after[: len(audit_before)] == audit_before
    assert audit_actions(empty_database)[len(audit_before) :] == ["backup.restored"]
    assert audit_actions(db_url)[-1] == "backup.made"
    assert rows(empty_database, "alembic_version", "version_num") == [(manifest["alembic_revision"],)]
    verified = massicot("audit", "verify", "--db", empty_database, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{len(audit_after)} entries, every link verified" in verified.stdout

    # A server started on the restored services gives the corrector his marks and his pages.
    restored_env = {**env, "MASSICOT_STORE_URL": target_option} if store_kind == "s3" else env
    restored_folder = tmp_path / "restored-server-store" if store_kind == "s3" else Path(target_option)
    state, image = what_the_corrector_gets(
        empty_database, restored_folder, tmp_path, world.copies_marked[0], restored_env
    )
    assert float(state["total"]) == 17 and state["status"] == "marked", state
    assert image[:2] == b"\xff\xd8"  # a JPEG


def test_a_second_backup_copies_only_the_new_images(fresh_database, tmp_path: Path):
    db_url = fresh_database("sqlite")
    store = LocalStore(tmp_path / "store")
    marked_world(db_url, store)
    env = {"MASSICOT_DATA": str(tmp_path / "cli-data")}
    folder = tmp_path / "backup"
    args = ("office", "backup", str(folder), "--db", db_url, "--store", str(store.root))

    first = massicot(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "2 page image(s) — 2 copied now, 0 already there" in first.stdout
    held = {sha: object_file(folder, sha).stat().st_mtime_ns for sha in store.hashes()}
    first_dump = next(folder.glob("database-*"))

    new = [store.put(f"a page scanned later {n}".encode()) for n in range(3)]  # type: ignore[attr-defined]
    second = massicot(*args, env=env)
    assert second.returncode == 0, second.stderr
    assert "5 page image(s) — 3 copied now, 2 already there" in second.stdout
    # The images already there were not written again; the new ones are.
    assert {sha: object_file(folder, sha).stat().st_mtime_ns for sha in held} == held
    assert all(object_file(folder, sha).is_file() for sha in new)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["objects"]) == 5 and [h["copied"] for h in manifest["history"]] == [2, 3]
    # One dump only: the newer one, the manifest's.
    dumps = list(folder.glob("database-*"))
    assert [d.name for d in dumps] == [manifest["dump_file"]] and dumps[0] != first_dump

    third = massicot(*args, env=env)
    assert "5 page image(s) — 0 copied now, 5 already there" in third.stdout


def test_backups_taken_while_lots_arrive_hold_every_page_their_rows_name(
    db_url: str, empty_database: str, tmp_path: Path
):
    store = LocalStore(tmp_path / "store")
    exam = seed_exam(db_url, {CENTRE_A: 48}, paper="U4")
    registrations = exam.candidates[CENTRE_A]
    lots = [
        make_sealed_lot(tmp_path / f"lot{n}", CENTRE_A, exam.paper, registrations[n * 12 : (n + 1) * 12])
        for n in range(4)
    ]
    env = {"MASSICOT_DATA": str(tmp_path / "cli-data")}
    folder = tmp_path / "backup"
    server = ServerProcess(db_url, store.root, tmp_path / "server-data").start()
    pushed: list[int] = []

    def push_all() -> None:
        for lot in lots:
            pushed.append(run_push(lot.folder, server.url, exam.tokens[CENTRE_A]).returncode)

    try:
        pusher = threading.Thread(target=push_all)
        pusher.start()
        # Backups into one folder while pages arrive and lots are committed: each dump names
        # only pages whose images the same backup holds.
        seen = []

        def back_up_and_check() -> None:
            made = massicot(
                "office", "backup", str(folder), "--db", db_url, "--store", str(store.root), env=env
            )
            assert made.returncode == 0, made.stderr
            manifest = json.loads((folder / "manifest.json").read_text())
            named = page_images_in_dump(manifest["database_kind"], folder / manifest["dump_file"])
            assert named <= set(manifest["objects"]), (
                f"{len(named - set(manifest['objects']))} images left out"
            )
            seen.append(len(named))

        while pusher.is_alive() or len(seen) < 2:
            back_up_and_check()
        pusher.join()
        # The last lot may have been committed during the last backup of the loop: one more,
        # after it, holds every page.
        back_up_and_check()
    finally:
        server.stop()
    assert pushed == [0, 0, 0, 0] and seen[-1] == 4 * 12 * 4
    restored = massicot(
        "office",
        "restore",
        str(folder),
        "--db",
        empty_database,
        "--store",
        str(tmp_path / "restored"),
        env=env,
    )
    assert restored.returncode == 0, restored.stderr
    assert rows(empty_database, "page", "id") == rows(db_url, "page", "id")
