"""Create or bring the database schema up to date with the Alembic revisions.

Every part of the product gets its schema from `upgrade_database(url)` (never from
`Base.metadata.create_all`), so a database made by the tests, the demo or a server start is
the same database that a production upgrade produces.

`python -m correction_server.migrate heads|current URL|upgrade URL|revision NNNN_topic`
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import NullPool

from massicot_core.errors import UserError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works: it only has to be the same for every process upgrading one database.
_PG_LOCK_KEY = 7_461_226_001


def alembic_config(url: str | None = None) -> Config:
    """The Alembic configuration, built in code so that no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The file name is the revision id itself: NNNN_topic.py.
    config.set_main_option("file_template", "%%(rev)s")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The single head of the revision chain; two heads mean two people branched it."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(
            f"the migration chain has {len(heads)} heads ({', '.join(sorted(heads))}): set the newer "
            "revision's down_revision to the other one so the chain is a single line again"
        )
    return heads[0]


def current_revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the head revision. Idempotent, cheap when already there.

    Safe when several server processes start at once: PostgreSQL upgrades under an advisory
    lock, SQLite under BEGIN IMMEDIATE; the whole upgrade is one transaction on both, so a
    failed revision leaves the database as it was.
    """
    head = head_revision()
    if _current(url) == (head,):
        return
    engine = migration_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            config = alembic_config(url)
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, "head")
            except CommandError as exc:
                raise UserError(
                    f"the database at {_safe(url)} cannot be upgraded ({exc}); it was probably made by a "
                    "newer version of Massicot: install that version"
                ) from exc
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"a migration left rows with dangling references: {broken[:5]}")
    finally:
        engine.dispose()


def _current(url: str) -> tuple[str, ...]:
    """The database's revision, read without taking any write lock (the common case: up to date)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return current_revisions(connection)
    finally:
        engine.dispose()


def migration_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=1, max_overflow=0)
    engine = create_engine(url, connect_args={"timeout": 30})

    # pysqlite opens no transaction before DDL; take control so the upgrade is one transaction,
    # and take the write lock at once (BEGIN IMMEDIATE) so two starting servers queue up.
    # Foreign keys stay off (the SQLite default) because batch migrations rebuild tables.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _draft_revision(rev_id: str) -> None:
    """Write versions/<rev_id>.py with what the models have that the head revision lacks."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/draft.sqlite3"
        upgrade_database(url)
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                config = alembic_config(url)
                config.attributes["connection"] = connection
                topic = rev_id.split("_", 1)[-1].replace("_", " ")
                command.revision(config, message=topic, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()


def main(argv: list[str]) -> int:
    usage = (
        "usage: python -m correction_server.migrate heads | current URL | upgrade URL | revision NNNN_topic"
    )
    if not argv:
        print(usage)
        return 2
    match argv:
        case ["heads"]:
            print(head_revision())
        case ["current", url]:
            engine = create_engine(url)
            with engine.connect() as connection:
                print(" ".join(current_revisions(connection)) or "(empty database)")
            engine.dispose()
        case ["upgrade", url]:
            upgrade_database(url)
            print(f"at {head_revision()}")
        case ["revision", rev_id]:
            _draft_revision(rev_id)
        case _:
            print(usage)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
