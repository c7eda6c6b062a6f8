"""Fixtures of the backup tests: an EMPTY database of the same kind as `db_url` to restore into
(a new database on the test cluster for PostgreSQL, a file not made yet for SQLite), and a real
SeaweedFS for the bucket drill."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from testkit.s3 import SeaweedS3, throwaway_seaweed

_names = itertools.count(1)


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    with throwaway_seaweed() as server:
        yield server


@pytest.fixture
def empty_database(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database with nothing in it, on the same kind of server as `db_url`."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'massicot.sqlite3'}"
        return
    server = request.getfixturevalue("pg_url")
    name = f"restored_{next(_names)}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield f"{server}/{name}"
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()
