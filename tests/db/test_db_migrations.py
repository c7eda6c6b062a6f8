"""The Alembic chain: one head, and a migrated database equals the models (no pending diff)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import correction_server.models  # noqa: F401  (every table on Base.metadata)
from correction_server.db import Base
from correction_server.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revisions,
    head_revision,
    upgrade_database,
)


def test_chain_has_exactly_one_head_and_files_follow_the_naming_rule() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    revisions = list(script.walk_revisions())
    assert revisions[-1].revision == "0001_initial"
    for revision in revisions:
        name = Path(revision.path).stem
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+", name), f"{name}.py: name files NNNN_topic.py"
        assert revision.revision == name, f"{name}.py: its revision id must be its file name"
    numbers = sorted(int(Path(r.path).stem[:4]) for r in revisions)
    assert numbers == list(range(1, len(numbers) + 1)), f"revision numbers must run 0001, 0002…: {numbers}"


def test_upgraded_database_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            assert current_revisions(connection) == (head_revision(),)
            # The job queue's tables are procrastinate's (migration 0015), not the models'.
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _parent: (
                        kind != "table" or not (name or "").startswith("procrastinate_")
                    ),
                },
            )
            diff = compare_metadata(context, Base.metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert diff == [], f"the models differ from the migrations; write a revision for: {diff}"
    assert set(Base.metadata.tables) <= tables


def test_upgrade_from_empty_and_again_is_idempotent(db_url: str, tmp_path: Path) -> None:
    # db_url is already at head: upgrading again must change nothing and not fail.
    upgrade_database(db_url)
    upgrade_database(db_url)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert current_revisions(connection) == (head_revision(),)
    engine.dispose()
    # And from an empty file, the same way a server's first start does it.
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    upgrade_database(url)
    upgrade_database(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        assert current_revisions(connection) == (head_revision(),)
    engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    assert MIGRATIONS_DIR.parent.name == "correction_server"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()


# The inner session takes its cluster from the test kit, as tests/conftest.py does.
INNER_CONFTEST = """
import pytest

from testkit.postgres import throwaway_cluster


@pytest.fixture(scope="session")
def pg_url():
    with throwaway_cluster() as cluster:
        yield cluster.url
"""


def _run_inner_pytest(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    """Run a one-test session that asks for PostgreSQL while its binaries are "missing"."""
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
    (tmp_path / "test_needs_pg.py").write_text("def test_needs_pg(pg_url):\n    assert pg_url\n")
    env = {**os.environ, "MASSICOT_PG_ROOT": str(tmp_path / "nowhere"), "CI": ci}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def test_missing_postgresql_skips_locally_but_fails_in_ci(tmp_path: Path) -> None:
    local = _run_inner_pytest(tmp_path, ci="")
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    ci = _run_inner_pytest(tmp_path, ci="true")
    assert ci.returncode == 1 and "CI=true: this must not be skipped" in ci.stdout, ci.stdout


def test_concurrent_first_starts_upgrade_once(pg_url: str, tmp_path: Path) -> None:
    """Several server processes starting at once on an empty database: one upgrades, none fails."""
    admin = create_engine(f"{pg_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE concurrent_start"))
    admin.dispose()
    for url in (f"{pg_url}/concurrent_start", f"sqlite:///{tmp_path / 'start.sqlite3'}"):
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(upgrade_database, [url] * 4))  # re-raises any failure
        engine = create_engine(url)
        with engine.connect() as connection:
            assert current_revisions(connection) == (head_revision(),)
            assert len(connection.execute(text("SELECT * FROM alembic_version")).all()) == 1
        engine.dispose()
