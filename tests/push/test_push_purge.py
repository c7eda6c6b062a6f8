"""`massicot office purge-uploads`: abandoned pushes go, received lots and shared images stay.

Against a real server process on SQLite and PostgreSQL; the purge runs as the office would run
it, as a separate `massicot` process beside the running server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text, update

from correction_server.audit.log import verify_chain
from correction_server.db import make_engine, make_session_factory
from correction_server.models.audit import AuditEntry
from correction_server.models.pushes import PushUpload
from correction_server.pages.store import LocalStore
from massicot_core.contract import IDENTITY_FILE
from testkit.push_helpers import CENTRE_A, REPO, Site, run_push, start_push_stalled_midway
from testkit.push_setup import make_sealed_lot, page_jpeg

pytestmark = pytest.mark.slow

RECEIVED_TABLES = ("scan_lot", "copy", "page", "identity_link")


def _lot(site: Site, tmp_path: Path, name: str, regs: slice, **kw):
    return make_sealed_lot(
        tmp_path / name, CENTRE_A, site.exam.paper, site.exam.candidates[CENTRE_A][regs], **kw
    )


def _auth(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.exam.tokens[CENTRE_A]}"}


def _announce(site: Site, lot) -> dict:
    body = {
        "manifest": json.loads((lot.folder / "manifest.json").read_text()),
        "identity": base64.b64encode((lot.folder / IDENTITY_FILE).read_bytes()).decode(),
    }
    response = httpx.post(f"{site.server.url}/api/v1/lots", json=body, headers=_auth(site))
    assert response.status_code == 200, response.text
    return response.json()


def _send(site: Site, lot, sha: str, upto: int | None = None) -> None:
    """Send one image of `lot` whole, or only its first `upto` bytes (a push cut mid-image)."""
    data = (lot.folder / "images" / f"{sha}.jpg").read_bytes()
    part = data if upto is None else data[:upto]
    response = httpx.put(
        f"{site.server.url}/api/v1/lots/{lot.seal}/images/{sha}",
        content=part,
        headers={**_auth(site), "Content-Range": f"bytes 0-{len(part) - 1}/{len(data)}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["complete"] is (upto is None)


def _age(site: Site, seal: str, days: float) -> None:
    """Make a push look idle for `days` (through the model, so the time is stored as the server stores it)."""
    engine = make_engine(site.db_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            changed = session.execute(
                update(PushUpload)
                .where(PushUpload.seal_sha256 == seal)
                .values(last_activity_at=datetime.now(UTC) - timedelta(days=days))
            ).rowcount
        assert changed == 1
    finally:
        engine.dispose()


def _purge(site: Site, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-c",
        "from massicot.cli import main; main()",
        "office",
        "purge-uploads",
        "--db",
        site.db_url,
        "--store",
        str(site.store),
        *extra,
    ]
    env = dict(os.environ, MASSICOT_DATA=str(tmp_path / "office-data"))
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def _held(site: Site) -> dict[str, int]:
    """The store's page images, whole and partial (display images are made apart, in the background)."""
    return {
        str(path.relative_to(site.store)): path.stat().st_size
        for folder in ("objects", "partial")
        for path in (site.store / folder).rglob("*")
        if path.is_file()
    }


def _uploads(site: Site) -> set[str]:
    engine = create_engine(site.db_url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT seal_sha256 FROM push_upload")))
    finally:
        engine.dispose()


def _received_rows(site: Site) -> dict[str, list[tuple]]:
    """Every row of the received lots' tables, in a stable order."""
    engine = create_engine(site.db_url)
    try:
        with engine.connect() as conn:
            return {
                table: [tuple(row) for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1'))]
                for table in RECEIVED_TABLES
            }
    finally:
        engine.dispose()


def _purge_entries(site: Site) -> list[AuditEntry]:
    engine = make_engine(site.db_url)
    try:
        with make_session_factory(engine)() as session:
            entries = list(
                session.scalars(select(AuditEntry).where(AuditEntry.action == "push.purge_uploads"))
            )
            assert verify_chain(session).intact
            return entries
    finally:
        engine.dispose()


def _assert_intact(site: Site, lot) -> None:
    """Every image of a received lot is in the store, byte for byte the station's file."""
    store = LocalStore(site.store)
    for copy in lot.manifest.copies:
        for page in copy.pages:
            with store.open(page.sha256) as handle:
                held = handle.read()
            assert hashlib.sha256(held).hexdigest() == page.sha256
            assert held == (lot.folder / page.image).read_bytes()


def test_a_stale_push_is_purged_with_its_own_images_and_shared_ones_stay(site: Site, tmp_path: Path):
    # A received lot.
    received = _lot(site, tmp_path, "received", slice(0, 3))
    assert run_push(received.folder, site.server.url, site.exam.tokens[CENTRE_A]).returncode == 0
    shared_with_received = received.manifest.copies[0].pages[0]
    # An abandoned push: one page is the very bytes of a received page (the lot sealed again).
    own_page = page_jpeg("stale own page", 900, 1200, noise=20, seed=1)
    stale = _lot(
        site,
        tmp_path,
        "stale",
        slice(3, 6),
        big_pages={(0, 1): (received.folder / shared_with_received.image).read_bytes(), (0, 2): own_page},
    )
    stale_hashes = [p.sha256 for c in stale.manifest.copies for p in c.pages]
    assert shared_with_received.sha256 in stale_hashes
    missing = _announce(site, stale)["missing"]
    assert shared_with_received.sha256 not in missing  # the server already holds it
    sent_whole, cut = missing[:3], missing[3]
    for sha in sent_whole:
        _send(site, stale, sha)
    _send(site, stale, cut, upto=500)  # a partial upload left behind
    shared_with_recent = stale.manifest.copies[0].pages[1].sha256
    assert shared_with_recent in sent_whole
    # A push under way since this morning, which shares one image with the abandoned one.
    recent = _lot(site, tmp_path, "recent", slice(6, 8), big_pages={(1, 3): own_page})
    recent_missing = _announce(site, recent)["missing"]
    assert shared_with_recent not in recent_missing
    _send(site, recent, recent_missing[0])
    _age(site, stale.seal, days=3)
    _age(site, recent.seal, days=0.2)

    rows_before = _received_rows(site)
    files_before = _held(site)
    only_stale = set(sent_whole) - {shared_with_recent}
    assert all(f"objects/{s[:2]}/{s[2:4]}/{s}" in files_before for s in only_stale)
    assert f"partial/{cut}.part" in files_before

    # Under 2 days is refused; nothing happens.
    refused = _purge(site, tmp_path, "--older-than", "1")
    assert (
        refused.returncode == 2 and "2 days or more" in refused.stderr and "Traceback" not in refused.stderr
    )

    # --dry-run lists the abandoned push only, and deletes nothing.
    dry = _purge(site, tmp_path, "--older-than", "2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert stale.seal[:16] in dry.stdout and recent.seal[:16] not in dry.stdout
    assert "Would delete 1 unfinished pushes" in dry.stdout and "Nothing was deleted" in dry.stdout
    assert f"{len(only_stale) + 1} image files that would be deleted" in dry.stdout
    assert _held(site) == files_before
    assert _uploads(site) == {stale.seal, recent.seal}
    assert _purge_entries(site) == []

    done = _purge(site, tmp_path, "--older-than", "2", "--by", "Office Clerk")
    assert done.returncode == 0, done.stderr
    assert stale.seal[:16] in done.stdout and recent.seal[:16] not in done.stdout
    assert "Deleted 1 unfinished pushes" in done.stdout
    assert _uploads(site) == {recent.seal}
    files_after = _held(site)
    for sha in only_stale:
        assert f"objects/{sha[:2]}/{sha[2:4]}/{sha}" not in files_after
    assert f"partial/{cut}.part" not in files_after
    store = LocalStore(site.store)
    assert store.has(shared_with_received.sha256)  # a received page uses it
    assert store.has(shared_with_recent)  # the push still under way counts on it
    assert store.has(recent_missing[0])
    removed = set(files_before) - set(files_after)
    assert len(removed) == len(only_stale) + 1 and not set(files_after) - set(files_before)
    # The received lot: not one row changed, every image byte for byte.
    assert _received_rows(site) == rows_before
    _assert_intact(site, received)
    # One audit entry: who and how many, no seal contents, no identities.
    (entry,) = _purge_entries(site)
    assert entry.details["uploads"] == 1 and entry.details["by"] == "Office Clerk"
    assert entry.details["images_deleted"] == len(only_stale) + 1
    assert entry.details["images_kept"] == 2 and entry.details["older_than_days"] == 2
    assert entry.details["bytes_freed"] == sum(files_before[p] for p in removed)
    logged = json.dumps(entry.details) + entry.object_id
    assert not any(reg in logged for reg in site.exam.candidates[CENTRE_A])
    assert not any(copy in logged for copy in stale.copies)

    # The push under way still finishes; the abandoned lot, pushed again, goes in whole.
    assert run_push(recent.folder, site.server.url, site.exam.tokens[CENTRE_A]).returncode == 0
    again = run_push(stale.folder, site.server.url, site.exam.tokens[CENTRE_A])
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("received: 3 copies, 12 pages")
    for lot in (received, recent, stale):
        _assert_intact(site, lot)
    assert _uploads(site) == set()
    # Nothing is left for a purge once every lot is in.
    nothing = _purge(site, tmp_path, "--older-than", "2")
    assert nothing.returncode == 0 and "Deleted 0 unfinished pushes" in nothing.stdout
    assert len(_purge_entries(site)) == 1


def test_a_station_killed_mid_push_pushes_again_after_the_purge(site: Site, tmp_path: Path, proxy_factory):
    big = {(i, 1): page_jpeg(f"big {i}", 1200, 1700, noise=25, seed=i) for i in range(3)}
    lot = _lot(site, tmp_path, "lot", slice(0, 4), big_pages=big)
    proxy = proxy_factory(site.server.port)
    station = start_push_stalled_midway(lot.folder, lot.image_bytes, proxy, site.exam.tokens[CENTRE_A])
    station.send_signal(signal.SIGKILL)
    station.wait(10)
    proxy.release()
    assert _uploads(site) == {lot.seal}
    held = _held(site)
    assert held
    _age(site, lot.seal, days=5)
    purged = _purge(site, tmp_path, "--older-than", "4")
    assert purged.returncode == 0, purged.stderr
    assert _uploads(site) == set() and _held(site) == {}

    again = run_push(lot.folder, site.server.url, site.exam.tokens[CENTRE_A], "--chunk-kib", "64")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("received: 4 copies, 16 pages")
    assert f"0 of {lot.pages} images already on the server" in again.stderr + again.stdout
    _assert_intact(site, lot)
    assert not any(site.store.glob("partial/*.part"))


def test_a_push_resuming_while_it_is_purged_starts_over_and_goes_in_whole(
    site: Site, tmp_path: Path, proxy_factory
):
    big = {
        (i, n): page_jpeg(f"big {i} {n}", 1200, 1700, noise=25, seed=10 * i + n)
        for i in range(3)
        for n in (1, 2)
    }
    lot = _lot(site, tmp_path, "lot", slice(0, 4), big_pages=big)
    proxy = proxy_factory(site.server.port)
    station = start_push_stalled_midway(lot.folder, lot.image_bytes, proxy, site.exam.tokens[CENTRE_A])
    # The line is down for days (as far as the server can tell), and the office purges the push
    # while the station still holds its connection and the server its announced lot.
    _age(site, lot.seal, days=3)
    purged = _purge(site, tmp_path, "--older-than", "2")
    assert purged.returncode == 0, purged.stderr
    assert "Deleted 1 unfinished pushes" in purged.stdout and _uploads(site) == set()
    deleted = int(purged.stdout.split(" image files deleted")[0].rsplit(" ", 1)[1])
    assert deleted > 0
    proxy.release()
    out, err = station.communicate(timeout=120)
    assert station.returncode == 0, err
    assert out.startswith("received: 4 copies, 16 pages")
    # Told, in the server's words, what it lacks now, and that the push started over.
    assert re.search(r"the server: \d+ page", err + out) and "starting over" in err + out
    _assert_intact(site, lot)
    assert _uploads(site) == set()
    assert not any(site.store.glob("partial/*.part"))


def test_a_commit_whose_push_is_purged_after_its_image_check_is_refused_then_goes_in(
    db_url: str, tmp_path: Path
):
    """The narrowest race, made exact in one process: the purge runs between the commit's check
    of the images and its transaction. The commit must not create a lot whose images are gone."""
    from correction_server.auth.tokens import authenticate
    from correction_server.intake.ingest import IngestService
    from correction_server.intake.purge import purge_uploads
    from correction_server.intake.refusals import PUSH_DROPPED, Conflict
    from testkit.push_setup import seed_exam

    exam = seed_exam(db_url, {CENTRE_A: 4})
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    store = LocalStore(tmp_path / "store")
    service = IngestService(factory, store, max_page_bytes=10**7)
    with factory() as session:
        centre = authenticate(session, exam.tokens[CENTRE_A])
    lot = make_sealed_lot(tmp_path / "lot", CENTRE_A, exam.paper, exam.candidates[CENTRE_A][:2])
    identity = (lot.folder / IDENTITY_FILE).read_bytes()
    manifest = json.loads((lot.folder / "manifest.json").read_text())

    def push_images() -> None:
        state = service.announce(centre, manifest, identity)
        for sha in state.missing:
            data = (lot.folder / "images" / f"{sha}.jpg").read_bytes()
            assert service.receive_chunk(centre, lot.seal, sha, 0, len(data), data).complete

    push_images()
    with factory() as session, session.begin():
        session.execute(update(PushUpload).values(last_activity_at=datetime.now(UTC) - timedelta(days=3)))
    checked = store.make_durable
    purges = []

    def check_then_purge(hashes: list[str]) -> list[str]:
        damaged = checked(hashes)
        purges.append(purge_uploads(factory, store, 2, "Office Clerk"))
        return damaged

    store.make_durable = check_then_purge  # type: ignore[method-assign]
    try:
        with pytest.raises(Conflict) as refused:
            service.commit(centre, lot.seal)
    finally:
        store.make_durable = checked  # type: ignore[method-assign]
    assert refused.value.detail == PUSH_DROPPED and "push the lot again" in refused.value.detail
    assert purges[0].images_deleted == lot.pages
    assert sorted(refused.value.extra["missing"]) == sorted(
        p.sha256 for c in lot.manifest.copies for p in c.pages
    )
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM scan_lot")) == 0
        assert conn.scalar(text("SELECT count(*) FROM page")) == 0
    # The station starts over, as `massicot push` does on that answer: the lot goes in whole.
    push_images()
    assert service.commit(centre, lot.seal).state == "received"
    with engine.connect() as conn:
        hashes = list(conn.scalars(text("SELECT image_sha256 FROM page")))
    assert len(hashes) == lot.pages
    for sha in hashes:
        with store.open(sha) as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == sha
    engine.dispose()


def test_pushes_under_way_before_the_upgrade_count_as_active_since_they_started(db_url: str):
    """Revision 0008 gives existing rows their start time as their last activity."""
    from alembic import command

    from correction_server.migrate import alembic_config, upgrade_database
    from testkit.push_setup import seed_exam

    seed_exam(db_url, {CENTRE_A: 1})
    config = alembic_config(db_url)
    command.downgrade(config, "0007_login_failures")
    started = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            ids = conn.execute(text("SELECT (SELECT min(id) FROM centre), (SELECT min(id) FROM paper)")).one()
            for n, when in enumerate((started, started + timedelta(days=3))):
                conn.execute(
                    text(
                        "INSERT INTO push_upload (seal_sha256, centre_id, paper_id, manifest_json, "
                        "identity_json, started_at) VALUES (:seal, :centre, :paper, '{}', '{}', :at)"
                    ),
                    {"seal": str(n) * 64, "centre": ids[0], "paper": ids[1], "at": when.replace(tzinfo=None)},
                )
    finally:
        engine.dispose()
    upgrade_database(db_url)
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(PushUpload.started_at, PushUpload.last_activity_at).order_by(PushUpload.seal_sha256)
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(started, started), (started + timedelta(days=3),) * 2]
