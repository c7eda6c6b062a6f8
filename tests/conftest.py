"""Databases for the tests: SQLite files and a throw-away PostgreSQL cluster.

Fixtures for every test folder:
  db_url           a FRESH migrated database per test, parametrised ["sqlite", "postgresql"]
  engine           an Engine on db_url (disposed after the test)
  session_factory  a sessionmaker on that engine
  fresh_database   a callable kind -> URL ("sqlite" or "postgresql"), for a test that wants one
                   kind only, or several databases: `url = fresh_database("sqlite")`
  pg_url           the cluster's server URL base, e.g. postgresql+psycopg://postgres@127.0.0.1:5433
                   (append "/dbname")

The cluster (testkit.postgres) starts once per pytest session, only when a test asks for
PostgreSQL, and is stopped at the end. Its binaries come from /usr/lib/postgresql/*/bin and run
as the `postgres` user. Without them a PostgreSQL test is skipped, except in CI (CI=true) where
it fails.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from correction_server.db import make_engine, make_session_factory
from correction_server.i18n import register_words
from correction_server.migrate import upgrade_database
from testkit.postgres import PgCluster, throwaway_cluster

# Services tested without an application still speak from the catalogue, as the CLI does.
register_words()

TEMPLATE_DB = "massicot_template"


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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    with throwaway_cluster() as cluster:
        yield cluster


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
