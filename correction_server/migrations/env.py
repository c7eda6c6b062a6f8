"""Alembic environment of the correction server.

RULE FOR NEW REVISIONS (the chain must keep exactly one head; tests/db checks it):
  set down_revision to the output of the current single head
  (`python -m correction_server.migrate heads`), name the file NNNN_topic.py with the next
  number (revision id "NNNN_topic" too), and commit it at once so nobody else picks the same number.
  `python -m correction_server.migrate revision NNNN_topic` writes a draft from the models.

Run through correction_server.migrate.upgrade_database(url); no alembic.ini is needed.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import correction_server.models  # noqa: F401  (registers every table on Base.metadata)
from correction_server.db import Base, UtcDateTime

target_metadata = Base.metadata


def _render_item(kind: str, obj, autogen_context):
    """Revisions must not import product code (it changes; a revision must not): render our
    column types as the plain SQLAlchemy types they store as."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table, so the same revision
        # runs on SQLite and PostgreSQL.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Called without a connection (a downgrade from the command line or a test): the same engine
    # as upgrade_database, whose SQLite connections keep foreign keys off so that batch
    # revisions can rebuild a table other tables refer to.
    from correction_server.migrate import migration_engine

    engine = migration_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported: give a database URL.")
run_migrations_online()
