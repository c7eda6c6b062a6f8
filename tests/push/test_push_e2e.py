"""Pushing sealed lots to a real server process (SQLite and PostgreSQL), with faults."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from correction_server.pages.store import LocalStore
from massicot_core.contract import IDENTITY_FILE
from testkit.push_helpers import (
    CENTRE_A,
    CENTRE_B,
    Site,
    row_counts,
    run_push,
    start_push,
    start_push_stalled_midway,
    store_files,
)
from testkit.push_setup import make_sealed_lot, page_jpeg, reseal

pytestmark = pytest.mark.slow


def _lot(site: Site, tmp_path: Path, name: str = "lot", copies: int = 6, centre: str = CENTRE_A, **kw):
    regs = site.exam.candidates[centre][:copies]
    return make_sealed_lot(tmp_path / name, centre, site.exam.paper, regs, **kw)


def _noisy_page(text: str, seed: int) -> bytes:
    """A ~300 kB page: big enough to need several 64 KiB chunks."""
    return page_jpeg(text, 1200, 1700, noise=25, seed=seed)


def _assert_lot_stored(site: Site, lot) -> None:
    counts = site.counts()
    assert counts == {
        "scan_lot": 1,
        "copy": len(lot.copies),
        "page": lot.pages,
        "identity_link": len(lot.copies),
        "push_upload": 0,
    }
    store = LocalStore(site.store)
    for copy in lot.manifest.copies:
        for page in copy.pages:
            with store.open(page.sha256) as handle:
                assert hashlib.sha256(handle.read()).hexdigest() == page.sha256
    assert not any(site.store.glob("partial/*.part")), "no partial upload may be left once the lot is in"


def test_first_push_stores_everything_once_and_a_repeat_changes_nothing(site: Site, tmp_path: Path):
    lot = _lot(site, tmp_path)
    first = run_push(lot.folder, site.server.url, site.exam.tokens[CENTRE_A])
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("received: 6 copies, 24 pages")
    _assert_lot_stored(site, lot)
    engine = create_engine(site.db_url)
    with engine.connect() as conn:
        links = dict(
            conn.execute(
                text(
                    "SELECT l.copy_id, c.registration FROM identity_link l "
                    "JOIN candidate c ON c.id = l.candidate_id"
                )
            ).all()
        )
        pages = conn.execute(
            text("SELECT copy_id, position, number, image_sha256 FROM page ORDER BY copy_id, position")
        ).all()
        attendance = dict(
            conn.execute(
                text(
                    "SELECT c.registration, r.attendance FROM roll_entry r "
                    "JOIN candidate c ON c.id = r.candidate_id"
                )
            ).all()
        )
    engine.dispose()
    assert links == dict(zip(lot.copies, site.exam.candidates[CENTRE_A][:6], strict=True))
    # The roll as the centre closed it: the six candidates whose copies came are present.
    assert {attendance[r] for r in site.exam.candidates[CENTRE_A][:6]} == {"present"}
    assert {attendance[r] for r in site.exam.candidates[CENTRE_A][6:]} <= {"registered"}
    expected = sorted(
        (c.copy, i, p.number, p.sha256) for c in lot.manifest.copies for i, p in enumerate(c.pages, 1)
    )
    assert [tuple(row) for row in pages] == expected
    state = json.loads((lot.folder / "push-state.json").read_text())
    assert state["state"] == "received" and len(state["acknowledged"]) == lot.pages

    before_rows, before_files = site.counts(), store_files(site.store)
    again = run_push(lot.folder, site.server.url, site.exam.tokens[CENTRE_A])
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("already received: 6 copies, 24 pages; 0 images sent")
    assert site.counts() == before_rows
    assert store_files(site.store) == before_files


def test_two_stations_pushing_the_same_lot_at_once_make_one_lot(site: Site, tmp_path: Path):
    lot = _lot(site, tmp_path, copies=12)
    twin = tmp_path / "twin"
    shutil.copytree(lot.folder, twin)
    token = site.exam.tokens[CENTRE_A]
    procs = [start_push(folder, site.server.url, token) for folder in (lot.folder, twin)]
    outs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
    states = sorted(out.split(":")[0] for out, _ in outs)
    assert states in (["already received", "received"], ["received", "received"])
    _assert_lot_stored(site, lot)


def test_station_killed_mid_image_resumes_without_resending(site: Site, tmp_path: Path, proxy_factory):
    big = {(i, n): _noisy_page(f"big {i} {n}", seed=10 * i + n) for i in range(3) for n in (1, 2)}
    lot = _lot(site, tmp_path, copies=4, big_pages=big)
    proxy = proxy_factory(site.server.port)
    # Stall the line in the middle of the images, then kill the station as a power cut would.
    station = start_push_stalled_midway(lot.folder, lot.image_bytes, proxy, site.exam.tokens[CENTRE_A])
    station.send_signal(signal.SIGKILL)
    station.wait(10)
    proxy.release()
    held = sum(store_files(site.store).values())
    assert held > 0
    assert site.counts()["scan_lot"] == 0 and site.counts()["push_upload"] == 1
    # The centre may read the state of its own push, and nothing of another centre's.
    state_url = f"{site.server.url}/api/v1/lots/{lot.seal}"
    mine = httpx.get(state_url, headers={"Authorization": f"Bearer {site.exam.tokens[CENTRE_A]}"}).json()
    assert mine["state"] == "receiving" and 0 < len(mine["missing"]) < lot.pages
    theirs = httpx.get(state_url, headers={"Authorization": f"Bearer {site.exam.tokens[CENTRE_B]}"}).json()
    assert theirs["state"] == "unknown" and theirs["missing"] == []

    counting = proxy_factory(site.server.port)
    resumed = run_push(lot.folder, counting.url, site.exam.tokens[CENTRE_A], "--chunk-kib", "64")
    assert resumed.returncode == 0, resumed.stderr
    _assert_lot_stored(site, lot)
    # Only what the server did not hold travelled again (+ manifest and HTTP overhead).
    manifest_size = len((lot.folder / "manifest.json").read_bytes()) * 2
    assert counting.upstream_bytes < lot.image_bytes - held + manifest_size + 64 * 1024 + 50_000


def test_server_killed_mid_upload_and_restarted_the_spool_finishes(site: Site, tmp_path: Path, proxy_factory):
    big = {(i, 1): _noisy_page(f"big {i}", seed=i) for i in range(4)}
    lot = _lot(site, tmp_path, copies=6, big_pages=big)
    proxy = proxy_factory(site.server.port)
    station = start_push_stalled_midway(
        lot.folder,
        lot.image_bytes,
        proxy,
        site.exam.tokens[CENTRE_A],
        "--spool",
        "--give-up-after",
        "60",
        "--chunk-kib",
        "64",
    )
    site.server.kill()
    assert site.counts()["scan_lot"] == 0
    proxy.release()  # the station now meets a dead server, retries with backoff...
    time.sleep(1.0)
    site.server.start()  # ...and finds it back on the same port
    out, err = station.communicate(timeout=120)
    assert station.returncode == 0, err
    assert out.startswith("received: 6 copies, 24 pages")
    assert "trying again" in err
    _assert_lot_stored(site, lot)


def test_connection_cut_mid_chunk_is_resumed_and_nothing_damaged_is_kept(
    site: Site, tmp_path: Path, proxy_factory
):
    big = {(0, 1): _noisy_page("big", seed=3)}
    lot = _lot(site, tmp_path, copies=2, big_pages=big)
    proxy = proxy_factory(site.server.port)
    proxy.cut_at(len((lot.folder / "manifest.json").read_bytes()) + 150_000)
    result = run_push(
        lot.folder, proxy.url, site.exam.tokens[CENTRE_A], "--chunk-kib", "64", "--parallel", "1"
    )
    assert result.returncode == 0, result.stderr
    assert "trying again" in result.stderr
    _assert_lot_stored(site, lot)


def _announce(site: Site, lot, token: str) -> httpx.Response:
    body = {
        "manifest": json.loads((lot.folder / "manifest.json").read_text()),
        "identity": base64.b64encode((lot.folder / IDENTITY_FILE).read_bytes()).decode(),
    }
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{site.server.url}/api/v1/lots", json=body, headers=headers)


def test_a_corrupted_chunk_is_refused_naming_the_page_and_not_stored(site: Site, tmp_path: Path):
    lot = _lot(site, tmp_path, copies=2)
    token = site.exam.tokens[CENTRE_A]
    assert _announce(site, lot, token).status_code == 200
    page = lot.manifest.copies[1].pages[2]
    good = (lot.folder / page.image).read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    url = f"{site.server.url}/api/v1/lots/{lot.seal}/images/{page.sha256}"
    auth = {"Authorization": f"Bearer {token}"}
    half = len(bad) // 2 + 10
    first = httpx.put(
        url, content=bytes(bad[:half]), headers={**auth, "Content-Range": f"bytes 0-{half - 1}/{len(bad)}"}
    )
    assert first.json() == {"offset": half, "complete": False}
    assert httpx.head(url, headers=auth).headers["Upload-Offset"] == str(half)
    last = httpx.put(
        url,
        content=bytes(bad[half:]),
        headers={**auth, "Content-Range": f"bytes {half}-{len(bad) - 1}/{len(bad)}"},
    )
    assert last.status_code == 422
    assert f"copy {lot.copies[1]} page 3" in last.json()["detail"]
    assert not LocalStore(site.store).has(page.sha256)
    assert httpx.head(url, headers=auth).headers["Upload-Offset"] == "0"
    # A chunk that does not continue where the server stands is told where to go on.
    wrong = httpx.put(
        url, content=good[100:200], headers={**auth, "Content-Range": f"bytes 100-199/{len(good)}"}
    )
    assert wrong.status_code == 409 and wrong.json()["offset"] == 0
    # The right bytes are then accepted, and the lot goes in whole.
    assert httpx.put(url, content=good, headers=auth).json()["complete"] is True
    result = run_push(lot.folder, site.server.url, token)
    assert result.returncode == 0, result.stderr
    _assert_lot_stored(site, lot)


def test_a_manifest_that_lies_is_refused_and_nothing_is_stored(site: Site, tmp_path: Path):
    token = site.exam.tokens[CENTRE_A]
    lot = _lot(site, tmp_path, copies=3)
    # Counts that lie, resealed so that the seal hash itself is right.
    lying = lot.manifest.model_copy(update={"counts": lot.manifest.counts.model_copy(update={"pages": 13})})
    reseal(lot.folder, lying)
    result = run_push(lot.folder, site.server.url, token)
    assert result.returncode == 2
    assert "counts say 13 pages but its copies hold 12" in result.stderr
    # Copies dropped from the list but not from the counts.
    short = lot.manifest.model_copy(update={"copies": lot.manifest.copies[:2]})
    reseal(lot.folder, short)
    result = run_push(lot.folder, site.server.url, token)
    assert result.returncode == 2 and "say 3 copies but it lists 2" in result.stderr
    # A manifest edited after sealing: the station refuses, and so does the server.
    edited = json.loads(lot.manifest.model_dump_json())
    edited["copies"][0]["pages"][0]["number"] = 9
    (lot.folder / "manifest.json").write_text(json.dumps(edited))
    result = run_push(lot.folder, site.server.url, token)
    assert result.returncode == 2 and "changed after sealing" in result.stderr
    response = _announce(site, lot, token)
    assert response.status_code == 422 and "own SHA-256 does not match" in response.json()["detail"]
    # An image changed after sealing is named before anything is sent.
    reseal(lot.folder, lot.manifest)
    page = lot.manifest.copies[2].pages[1]
    (lot.folder / page.image).write_bytes(page_jpeg("swapped"))
    result = run_push(lot.folder, site.server.url, token)
    assert result.returncode == 2 and f"copy {lot.copies[2]} page 2" in result.stderr
    assert site.counts() == dict.fromkeys(site.counts(), 0)


def test_a_lot_for_another_centre_is_refused(site: Site, tmp_path: Path):
    lot = _lot(site, tmp_path, copies=2, centre=CENTRE_A)
    result = run_push(lot.folder, site.server.url, site.exam.tokens[CENTRE_B])
    assert result.returncode == 2
    assert f"sealed for centre {CENTRE_A}" in result.stderr and f"centre {CENTRE_B}'s" in result.stderr
    assert "403" in result.stderr
    assert site.counts() == dict.fromkeys(site.counts(), 0)


@pytest.mark.parametrize("who", ["corrector", "office", "none", "forged"])
def test_only_a_centre_token_may_push(site: Site, tmp_path: Path, who: str):
    lot = _lot(site, tmp_path, copies=1)
    token = {
        "corrector": site.exam.corrector_token,
        "office": site.exam.office_token,
        "none": "",
        "forged": "mct_x",
    }[who]
    response = _announce(site, lot, token)
    assert response.status_code == (403 if who in ("corrector", "office") else 401)
    assert isinstance(response.json()["detail"], str)
    if who in ("corrector", "office"):
        assert f"{who} account" in response.json()["detail"]
    assert site.counts() == dict.fromkeys(site.counts(), 0)


def test_a_page_above_the_size_limit_is_refused_naming_it(small_limit_site: Site, tmp_path: Path):
    site = small_limit_site
    big = {(1, 3): _noisy_page("too big", seed=7)}
    assert len(big[(1, 3)]) > 100_000
    lot = _lot(site, tmp_path, copies=2, big_pages=big)
    result = run_push(lot.folder, site.server.url, site.exam.tokens[CENTRE_A])
    assert result.returncode == 2
    assert f"copy {lot.copies[1]} page 3" in result.stderr and "more than the server accepts" in result.stderr
    # The server refuses it too when a client does not check first.
    token = site.exam.tokens[CENTRE_A]
    page = lot.manifest.copies[1].pages[2]
    data = (lot.folder / page.image).read_bytes()
    response = httpx.put(
        f"{site.server.url}/api/v1/lots/{lot.seal}/images/{page.sha256}",
        content=data[:1000],
        headers={"Authorization": f"Bearer {token}", "Content-Range": f"bytes 0-999/{len(data)}"},
    )
    assert response.status_code == 413 and f"copy {lot.copies[1]} page 3" in response.json()["detail"]
    assert site.counts()["scan_lot"] == 0


def test_a_second_lot_with_the_same_copy_ids_is_refused_naming_them(site: Site, tmp_path: Path):
    token = site.exam.tokens[CENTRE_A]
    first = _lot(site, tmp_path, "first", copies=3)
    assert run_push(first.folder, site.server.url, token).returncode == 0
    regs = site.exam.candidates[CENTRE_A][3:6]
    second = make_sealed_lot(tmp_path / "second", CENTRE_A, site.exam.paper, regs, copy_ids=first.copies)
    before = site.counts()
    result = run_push(second.folder, site.server.url, token)
    assert result.returncode == 2 and "409" in result.stderr
    assert all(copy in result.stderr for copy in first.copies)
    assert site.counts() == before


def test_an_unknown_paper_and_an_unsealed_lot_are_refused(site: Site, tmp_path: Path):
    token = site.exam.tokens[CENTRE_A]
    lot = make_sealed_lot(tmp_path / "x", CENTRE_A, "ZZ9", site.exam.candidates[CENTRE_A][:1])
    result = run_push(lot.folder, site.server.url, token)
    assert result.returncode == 2 and "paper ZZ9 is unknown" in result.stderr
    (lot.folder / "manifest.json").unlink()
    result = run_push(lot.folder, site.server.url, token)
    assert result.returncode == 2 and "not sealed" in result.stderr
    assert "Traceback" not in result.stderr


def test_openapi_schema_lists_the_push_routes(site: Site):
    # The description is the office's (web/docs.py): a station without a login gets 401.
    assert httpx.get(f"{site.server.url}/openapi.json").status_code == 401
    from correction_server.app import create_app
    from correction_server.settings import Settings

    settings = Settings(database_url=site.db_url, store_path=site.store, secret_key="x")
    schema = create_app(settings).openapi()
    for path in ("/api/v1/lots", "/api/v1/lots/{seal}/images/{sha256}", "/api/v1/lots/{seal}/commit"):
        assert path in schema["paths"]


def test_centre_token_command_issues_a_token_that_replaces_the_old(site: Site, tmp_path: Path):
    import subprocess
    import sys

    command = [
        sys.executable,
        "-c",
        "from massicot.cli import main; main()",
        "office",
        "centre-token",
        CENTRE_A.lower(),
        "--db",
        site.db_url,
    ]
    issued = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("mct_") and "only time" in issued.stderr
    lot = _lot(site, tmp_path, copies=1)
    old = run_push(lot.folder, site.server.url, site.exam.tokens[CENTRE_A])
    assert old.returncode == 2 and "401" in old.stderr
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    new = run_push(lot.folder, site.server.url, "", "--token-file", str(token_file))
    assert new.returncode == 0, new.stderr
    engine = create_engine(site.db_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT token_hash FROM app_user WHERE username = :u"), {"u": f"centre-{CENTRE_A}"}
        ).scalar_one()
    engine.dispose()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert row_counts(site.db_url)["scan_lot"] == 1


def test_without_a_server_the_push_gives_up_in_plain_words_and_keeps_the_lot(tmp_path: Path):
    from testkit.net import free_port

    lot = make_sealed_lot(tmp_path / "lot", CENTRE_A, "U3", ["U30000001"])
    result = run_push(
        lot.folder, f"http://127.0.0.1:{free_port()}", "mct_x", "--spool", "--give-up-after", "2"
    )
    assert result.returncode == 2
    assert "cannot be reached" in result.stderr and "gave up" in result.stderr
    assert "Traceback" not in result.stderr
    assert (lot.folder / "manifest.json").is_file()
