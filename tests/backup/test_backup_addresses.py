"""How the PostgreSQL programs are given the database: no driver part, no password on the command line."""

from __future__ import annotations

from correction_server.backup.databases import POSTGRESQL, SQLITE, Database


def test_pg_programs_get_a_libpq_address_and_the_password_apart():
    database = Database("postgresql+psycopg://massicot:s3cr%40t@db.example.org:5433/massicot?sslmode=require")
    address, env = database._libpq()
    assert address == "postgresql://massicot@db.example.org:5433/massicot?sslmode=require"
    assert env["PGPASSWORD"] == "s3cr@t"
    assert "s3cr" not in database.shown and database.kind == POSTGRESQL


def test_an_address_without_password_leaves_pgpassword_as_it_was(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    address, env = Database("postgresql+psycopg://postgres@127.0.0.1:5432/x")._libpq()
    assert address == "postgresql://postgres@127.0.0.1:5432/x" and "PGPASSWORD" not in env
    assert Database("sqlite:////tmp/m.sqlite3").kind == SQLITE
