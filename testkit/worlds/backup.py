"""A server worth backing up: a paper with a corrector's marks on its copies, and pages pushed by a
centre's station to a real server process; what the backup tests compare before and after."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from correction_server.db import make_engine, make_session_factory
from correction_server.marking import saving
from correction_server.marking.saving import SaveRequest
from correction_server.pages.objects import ObjectStore
from testkit.push_helpers import CENTRE_A, run_push
from testkit.push_setup import ServerProcess, make_sealed_lot, seed_exam
from testkit.worlds.marking import NOW, build_world, page_jpeg

REPO = Path(__file__).resolve().parents[2]
MARK_TABLES = {"marking": "id", "question_mark": "marking_id, question_id"}


@dataclass
class BackupWorld:
    copies_marked: list[str]
    pushed_pages: int  # distinct images the push stored


def marked_world(db_url: str, store: ObjectStore) -> list[str]:
    """The marking world with its page images in `store`, and the corrector's marks on three copies."""
    shas = [store.put(page_jpeg(f"backup page {n}", 600, 850)) for n in (1, 2)]  # type: ignore[attr-defined]
    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        world = build_world(factory, image_shas=shas)
        q1, q2, q3 = world.question_ids
        marks = [("3,5", "6", "7.5"), ("4", "0", "10"), ("1", "2,5", "")]
        for copy_id, (a, b, c) in zip(world.copies[:3], marks, strict=True):
            with factory() as session:
                saving.save(
                    session,
                    world.corrector_id,
                    copy_id,
                    SaveRequest(
                        version=0, marks={q1: a, q2: b, q3: c or None}, appreciation=f"Seen {copy_id}."
                    ),
                    now=NOW,
                )
        return world.copies[:3]
    finally:
        engine.dispose()


def push_lot(db_url: str, store_folder: Path, root: Path, env: dict[str, str] | None = None) -> int:
    """A centre's lot of three copies pushed to a real server on `db_url`; the images it stored."""
    exam = seed_exam(db_url, {CENTRE_A: 3}, paper="U4")
    server = ServerProcess(db_url, store_folder, root / "server-data", env=env).start()
    try:
        lot = make_sealed_lot(root / "lot", CENTRE_A, exam.paper, exam.candidates[CENTRE_A], pages_per_copy=2)
        pushed = run_push(lot.folder, server.url, exam.tokens[CENTRE_A])
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        return len({page.sha256 for copy in lot.manifest.copies for page in copy.pages})
    finally:
        server.stop()


def build_backup_world(
    db_url: str, store: ObjectStore, store_folder: Path, root: Path, env: dict[str, str] | None = None
) -> BackupWorld:
    marked = marked_world(db_url, store)
    return BackupWorld(copies_marked=marked, pushed_pages=push_lot(db_url, store_folder, root, env))


def what_the_corrector_gets(
    db_url: str, store_folder: Path, root: Path, copy_id: str, env: dict[str, str] | None = None
) -> tuple[dict, bytes]:
    """A real server on these services: (the copy's marking state, its first page's image) as the
    corrector's browser gets them."""
    import httpx
    from sqlalchemy import select

    from correction_server.auth.sessions import SESSION_COOKIE
    from correction_server.models import Page, User
    from testkit.worlds.marking import login_cookie

    secret = "backup-drill-secret-key"
    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            corrector = session.scalar(select(User.id).where(User.username == "corrector1"))
            page = session.scalar(select(Page.id).where(Page.copy_id == copy_id).order_by(Page.position))
        cookie, _ = login_cookie(factory, corrector, secret)
    finally:
        engine.dispose()
    # The server keeps its own data folder (ServerProcess sets it).
    server_env = {k: v for k, v in (env or {}).items() if k != "MASSICOT_DATA"}
    server_env["MASSICOT_SECRET_KEY"] = secret
    server = ServerProcess(db_url, store_folder, root / "restored-server", env=server_env).start()
    try:
        with httpx.Client(base_url=server.url, cookies={SESSION_COOKIE: cookie}, timeout=30) as client:
            state = client.get(f"/api/marking/copies/{copy_id}")
            assert state.status_code == 200, state.text
            image = client.get(f"/marking/pages/{page}/image")
            assert image.status_code == 200, image.text[:300]
            return state.json(), image.content
    finally:
        server.stop()


def page_images_in_dump(kind: str, dump: Path) -> set[str]:
    """The image of every page row a backup's dump holds, read from the dump itself."""
    if kind == "sqlite":
        import sqlite3

        connection = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        try:
            return {row[0] for row in connection.execute("SELECT image_sha256 FROM page")}
        finally:
            connection.close()
    listed = subprocess.run(
        ["pg_restore", "--data-only", "--table=page", "--file=-", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    header = next(n for n, line in enumerate(listed) if line.startswith("COPY public.page "))
    columns = [c.strip() for c in listed[header].split("(", 1)[1].split(")", 1)[0].split(",")]
    at = columns.index("image_sha256")
    found = set()
    for line in listed[header + 1 :]:
        if line == "\\.":
            break
        found.add(line.split("\t")[at])
    return found


def rows(db_url: str, table: str, order_by: str) -> list[tuple]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {order_by}')).all()
            return [tuple(_plain(v) for v in row) for row in found]
    finally:
        engine.dispose()


def audit_actions(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT action FROM audit_entry ORDER BY seq")).scalars())
    finally:
        engine.dispose()


def row_counts(db_url: str) -> dict[str, int]:
    """Rows of every table of the database."""
    engine = create_engine(db_url)
    try:
        tables = inspect(engine).get_table_names()
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in sorted(tables)}
    finally:
        engine.dispose()


def store_contents(store: ObjectStore) -> dict[str, str]:
    """Every object's name → the SHA-256 of the bytes read back."""
    out = {}
    for sha in store.hashes():
        with store.open(sha) as handle:
            out[sha] = hashlib.sha256(handle.read()).hexdigest()
    return out


def massicot(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """The `massicot` command as the office runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-c", "from massicot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        timeout=timeout,
        cwd=REPO,
    )


def _plain(value: object) -> object:
    # SQLite gives back floats and strings where PostgreSQL gives Decimals and datetimes.
    return str(value) if isinstance(value, Decimal) else value
