"""The rendering service behind the server's background renderer and `massicot office render-pages`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from correction_server.models import Page
from correction_server.pages.images import DEFAULT_WIDTH, PageLook, derivative_path
from correction_server.pages.rendering import BackgroundRenderer, derived_dir, render_missing
from correction_server.pages.store import LocalStore
from massicot.cli import app
from massicot_core.errors import UserError
from testkit.worlds.marking import build_world, page_jpeg


def _world_with_images(session_factory, store_path: Path) -> list[Path]:
    store = LocalStore(store_path)
    shas = [store.put(page_jpeg(f"Page {n}", 1654, 2339)) for n in (1, 2)]
    build_world(session_factory, image_shas=shas)
    with session_factory() as session, session.begin():
        # One page leaning: its own derivative beside the straight one of the same image.
        session.scalars(select(Page).order_by(Page.id)).first().skew_degrees = 0.8
    with session_factory() as session:
        looks = {PageLook(p.image_sha256, p.rotation, p.skew_degrees) for p in session.scalars(select(Page))}
    return sorted(derivative_path(derived_dir(store_path), look, DEFAULT_WIDTH) for look in looks)


def test_render_missing_makes_each_look_once_and_then_nothing(session_factory, tmp_path: Path):
    paths = _world_with_images(session_factory, tmp_path / "store")
    assert len(paths) == 3
    seen: list[tuple[int, int]] = []
    report = render_missing(
        session_factory, tmp_path / "store", jobs=2, progress=lambda d, t, _o: seen.append((d, t))
    )
    assert (report.pages, report.rendered, report.present, report.failed) == (3, 3, 0, [])
    assert all(p.is_file() for p in paths)
    assert seen[-1] == (3, 3)
    again = render_missing(session_factory, tmp_path / "store")
    assert (again.rendered, again.present) == (0, 3)


def test_background_renderer_at_start_renders_what_is_missing_and_drops_old_renderings(
    session_factory, tmp_path: Path
):
    store_path = tmp_path / "store"
    paths = _world_with_images(session_factory, store_path)
    old = paths[0].with_name(paths[0].name.replace(paths[0].name.rsplit("-", 1)[1], "v1.jpg"))
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"made the old way")
    stale = old.parent / "tmpkilled.part"
    stale.write_bytes(b"half")
    long_ago = time.time() - 3600
    os.utime(stale, (long_ago, long_ago))

    renderer = BackgroundRenderer(store_path, session_factory).start()
    try:
        deadline = time.monotonic() + 60
        while not all(p.is_file() for p in paths) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(p.is_file() for p in paths)
        assert not old.exists() and not stale.exists()
    finally:
        renderer.stop()


def test_render_pages_command(fresh_database, tmp_path: Path):
    from correction_server.db import make_engine, make_session_factory

    url = fresh_database("sqlite")
    engine = make_engine(url)
    try:
        paths = _world_with_images(make_session_factory(engine), tmp_path / "store")
    finally:
        engine.dispose()
    runner = CliRunner()
    args = ["office", "render-pages", "--db", url, "--store", str(tmp_path / "store"), "--jobs", "1"]
    result = runner.invoke(app, [*args, "--paper", "U3"])
    assert result.exit_code == 0, result.output
    assert "3 pages rendered, 0 already there, 0 failed" in result.output
    assert "pages/s" in result.output
    assert all(p.is_file() for p in paths)
    unknown = runner.invoke(app, [*args, "--paper", "ZZ9"])
    # The plain words `massicot` prints for a UserError (massicot.cli.main).
    assert isinstance(unknown.exception, UserError)
    assert "No paper has the code 'ZZ9'" in str(unknown.exception)
