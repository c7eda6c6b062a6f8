"""Databases for the tests: SQLite files and a throw-away PostgreSQL cluster.

Fixtures for every test folder:
  db_url           a FRESH migrated database per test, parametrised ["sqlite", "postgresql"]
  engine           an Engine on db_url (disposed after the test)
  session_factory  a sessionmaker on that engine
  fresh_database   a callable kind -> URL ("sqlite" or "postgresql"), for a test that wants one
                   kind only, or several databases: `url = fresh_database("sqlite")`
  pg_url           the cluster's server URL base, e.g. postgresql+psycopg://postgres@127.0.0.1:5433
                   (append "/dbname")

The cluster starts once per pytest session, only when a test asks for PostgreSQL, and is
stopped at the end. Its binaries come from /usr/lib/postgresql/*/bin and run as the `postgres`
user. Without them a PostgreSQL test is skipped, except in CI (CI=true) where it fails.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from correction_server.db import make_engine, make_session_factory
from correction_server.i18n import register_words
from correction_server.migrate import upgrade_database

# Services tested without an application still speak from the catalogue, as the CLI does.
register_words()

TEMPLATE_DB = "massicot_template"
CLUSTER_PREFIX = "massicot-pg-"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _missing(reason: str) -> None:
    """A missing system part: skipped on a developer's machine, a failure in CI."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def find_pg_bin() -> Path | None:
    # MASSICOT_PG_ROOT only exists so the "missing binaries" path itself can be tested.
    root = Path(os.environ.get("MASSICOT_PG_ROOT", "/usr/lib/postgresql"))
    candidates = sorted(root.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return candidates[-1].parent if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgCluster:
    """A PostgreSQL cluster in a temporary folder, reachable on 127.0.0.1:port with trust auth."""

    bin_dir: Path
    root: Path
    port: int = 0
    start_seconds: float = 0.0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _run(self, *args: str) -> None:
        # PostgreSQL refuses to run as root: as root, run it as the postgres user; otherwise as
        # the current user (a developer's own machine).
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}{tail}")

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        # Durability is worthless for a throw-away cluster; speed is not.
        options = (
            f"-p {{port}} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            self.port = free_port()
            try:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "30",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.root / "server.log"),
                    "-o",
                    options.format(port=self.port),
                )
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _admin_engine(server_url: str) -> Engine:
    return create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")


class DatabaseFactory:
    """Fresh migrated databases: copies of a template migrated once per pytest session."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._counter = itertools.count(1)
        self._sqlite_template: Path | None = None
        self._pg_ready = False

    def sqlite(self) -> str:
        return self._fresh_sqlite()

    def postgresql(self, cluster: PgCluster) -> str:
        return self._fresh_postgresql(cluster.url)

    def _fresh_sqlite(self) -> str:
        if self._sqlite_template is None:
            template = self._workdir / "template.sqlite3"
            upgrade_database(f"sqlite:///{template}")
            self._sqlite_template = template
        target = self._workdir / f"db{next(self._counter)}.sqlite3"
        # The backup API copies a consistent database whatever the WAL holds.
        src, dst = sqlite3.connect(self._sqlite_template), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return f"sqlite:///{target}"

    def _fresh_postgresql(self, server: str) -> str:
        admin = _admin_engine(server)
        try:
            with admin.connect() as conn:
                if not self._pg_ready:
                    conn.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
                    upgrade_database(f"{server}/{TEMPLATE_DB}")
                    self._pg_ready = True
                name = f"test_{next(self._counter)}"
                conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
        finally:
            admin.dispose()
        return f"{server}/{name}"

    def drop_postgresql(self, url: str) -> None:
        """Drop a test database (even with connections left open) so the cluster stays small."""
        server, name = url.rsplit("/", 1)
        admin = _admin_engine(server)
        try:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        finally:
            admin.dispose()


def _stop_orphan_clusters(bin_dir: Path) -> None:
    """Stop clusters left by a pytest run that was killed before its clean-up could run."""
    for root in Path("/tmp").glob(f"{CLUSTER_PREFIX}*"):
        try:
            owner = int((root / "owner.pid").read_text())
            os.kill(owner, 0)
            continue  # its pytest is still running
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue
        PgCluster(bin_dir=bin_dir, root=root).stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        _missing("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _missing("runuser not found: it is needed to run initdb as the postgres user")
    _stop_orphan_clusters(bin_dir)
    # Under /tmp, not $TMPDIR: the postgres user must reach the folder, and a unix socket path
    # must stay under 108 characters.
    root = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX, dir="/tmp"))
    (root / "owner.pid").write_text(str(os.getpid()))
    cluster = PgCluster(bin_dir=bin_dir, root=root)
    started = time.monotonic()
    try:
        cluster.start()
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise
    cluster.start_seconds = time.monotonic() - started
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_url(pg_cluster: PgCluster) -> str:
    return pg_cluster.url


@pytest.fixture(scope="session")
def _database_factory(tmp_path_factory: pytest.TempPathFactory) -> DatabaseFactory:
    return DatabaseFactory(tmp_path_factory.mktemp("databases"))


@pytest.fixture
def fresh_database(
    request: pytest.FixtureRequest, _database_factory: DatabaseFactory
) -> Iterator[Callable[[str], str]]:
    """`fresh_database("sqlite" | "postgresql") -> URL` of a new migrated database."""
    made: list[str] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            url = _database_factory.sqlite()
        elif kind == "postgresql":
            # Asked for lazily: a run with SQLite tests only never starts PostgreSQL.
            url = _database_factory.postgresql(request.getfixturevalue("pg_cluster"))
        else:
            raise ValueError(f"unknown database kind {kind!r}: sqlite or postgresql")
        made.append(url)
        return url

    yield make
    for url in made:
        if url.startswith("postgresql"):
            _database_factory.drop_postgresql(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    return fresh_database(request.param)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)
