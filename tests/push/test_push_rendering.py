"""Display images are made when a lot arrives, by a real server process (SQLite and PostgreSQL).

No page is viewed before the checks: the derivatives on disk come from the ingest, not from a
first view. A server killed before it rendered the whole lot renders the rest when it starts
again, and the image served is the file made at ingest.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.models import Page, User
from correction_server.pages.images import DEFAULT_WIDTH, PageLook, derivative_path, etag_of
from correction_server.pages.rendering import derived_dir
from paper.copy_model import load_model
from testkit.drawn_pages import DrawnPage, draw_upright, scan_like
from testkit.push_helpers import CENTRE_A, CENTRE_B, Site, run_push
from testkit.push_setup import ServerProcess, make_sealed_lot, seed_exam
from testkit.scan_files import encode_jpeg

pytestmark = pytest.mark.slow

SECRET = "rendering-test-secret"


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    exam = seed_exam(db_url, {CENTRE_A: 16, CENTRE_B: 2})
    store = tmp_path / "store"
    server = ServerProcess(
        db_url, store, tmp_path / "server-data", env={"MASSICOT_SECRET_KEY": SECRET}
    ).start()
    made = Site(server, exam, db_url, store, tmp_path)
    yield made
    made.server.stop()


def _scan(dpi: int) -> bytes:
    """One scanner-like booklet page; the lot's pages are this picture with a marker each."""
    page = DrawnPage(dpi=dpi, seed=3, number=2)
    return encode_jpeg(scan_like(draw_upright(page, load_model()), seed=3), dpi)


def _push_lot(site: Site, tmp_path: Path, copies: int, dpi: int):
    regs = site.exam.candidates[CENTRE_A][:copies]
    lot = make_sealed_lot(
        tmp_path / "lot", CENTRE_A, site.exam.paper, regs, base_jpeg=_scan(dpi), page_skew=_skews
    )
    pushed = run_push(lot.folder, site.server.url, site.exam.tokens[CENTRE_A])
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.startswith("received")
    return lot


def _skews(copy_index: int, number: int) -> float:
    # Some pages straight, some leaning as the feeder left them (each a different derivative).
    return (0.0, 0.7, -1.3)[(copy_index + number) % 3]


def _derivatives(site: Site, lot) -> dict[str, Path]:
    cache = derived_dir(site.store)
    return {
        page.sha256: derivative_path(
            cache, PageLook(page.sha256, page.rotation, page.skew_degrees), DEFAULT_WIDTH
        )
        for copy in lot.manifest.copies
        for page in copy.pages
    }


def _wait_for_files(paths: list[Path], timeout: float) -> list[Path]:
    """The paths still missing after `timeout` seconds (empty once every one exists)."""
    deadline = time.monotonic() + timeout
    missing = [p for p in paths if not p.is_file()]
    while missing and time.monotonic() < deadline:
        time.sleep(0.2)
        missing = [p for p in missing if not p.is_file()]
    return missing


def _office_cookie(site: Site) -> str:
    engine = make_engine(site.db_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            office = session.scalar(select(User).where(User.username == "office1"))
            return auth.open_session(session, office, SECRET).cookie_value
    finally:
        engine.dispose()


def _page_ids(site: Site) -> dict[str, list[int]]:
    engine = make_engine(site.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Page.image_sha256, Page.id)).all()
    finally:
        engine.dispose()
    ids: dict[str, list[int]] = {}
    for sha, page_id in rows:
        ids.setdefault(sha, []).append(page_id)
    return ids


def test_pushed_pages_are_rendered_at_ingest_and_served_as_made(site: Site, tmp_path: Path):
    lot = _push_lot(site, tmp_path, copies=4, dpi=200)
    derivatives = _derivatives(site, lot)
    assert len(derivatives) == lot.pages == 16
    # Nothing has asked for any page: only the ingest can make these.
    missing = _wait_for_files(list(derivatives.values()), timeout=120)
    assert not missing, f"{len(missing)} of {len(derivatives)} display images not made after the push"
    made = {sha: (path.read_bytes(), path.stat()) for sha, path in derivatives.items()}
    cache = derived_dir(site.store)
    assert not [p for p in cache.rglob("*.jpg") if p not in set(derivatives.values())], (
        "only the width the copy view asks for is made at ingest"
    )

    cookies = {auth.SESSION_COOKIE: _office_cookie(site)}
    ids = _page_ids(site)
    with httpx.Client(base_url=site.server.url, cookies=cookies, timeout=30) as client:
        for sha, path in derivatives.items():
            (page_id,) = ids[sha]
            reply = client.get(f"/marking/pages/{page_id}/image", params={"w": DEFAULT_WIDTH})
            assert reply.status_code == 200, reply.text
            assert reply.content == made[sha][0]
            assert reply.headers["etag"] == etag_of(path.name)
            assert "immutable" in reply.headers["cache-control"]
            again = client.get(
                f"/marking/pages/{page_id}/image",
                params={"w": DEFAULT_WIDTH},
                headers={"If-None-Match": reply.headers["etag"]},
            )
            assert again.status_code == 304
    for sha, path in derivatives.items():
        after = path.stat()
        # Served as it was made: the file was neither made again nor replaced.
        assert (after.st_ino, after.st_mtime_ns) == (made[sha][1].st_ino, made[sha][1].st_mtime_ns)


def test_server_killed_before_rendering_finished_renders_the_rest_when_started_again(
    site: Site, tmp_path: Path
):
    # 48 pages at 300 dpi: several seconds of rendering, so the kill lands before the end.
    lot = _push_lot(site, tmp_path, copies=12, dpi=300)
    site.server.kill()
    derivatives = list(_derivatives(site, lot).values())
    missing = [p for p in derivatives if not p.is_file()]
    assert missing, "the whole lot was rendered before the kill: the test proves nothing"

    site.server.start()
    still = _wait_for_files(missing, timeout=180)
    assert not still, f"{len(still)} of {len(missing)} display images missing after the restart"
    for path in derivatives:
        data = path.read_bytes()
        assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9", f"{path.name} is not a whole JPEG"
