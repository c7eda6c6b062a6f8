"""What every command module of the server shares: the database option, opening the database
and the store, reading a day, writing a file whole or not at all.

Command modules (each area's `cli.py`) import this; it imports no command module.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from correction_server.settings import Settings
from massicot_core.errors import UserError
from massicot_core.files import atomic_output

DB_OPTION_HELP = "Database URL (default: MASSICOT_DB or the local SQLite)."
BY_OPTION_HELP = "Who does it (name), kept in the audit log."
# Who a command on the server acted as, when `--by` names no one (as passwords.COMMAND_LINE_OFFICE,
# which is not imported here: the CLI loads the server's modules only when a command runs).
COMMAND_LINE_OFFICE = "exam office (command line)"


def with_database(db: str | None, work):
    """Upgrade the database, run `work(session_factory)`, and always release the engine."""
    from correction_server.db import make_engine, make_session_factory
    from correction_server.migrate import upgrade_database

    url = db or Settings.from_env().database_url
    upgrade_database(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        # Times the command prints are in the session's time zone, as on the pages.
        from correction_server.web.clock import load_zone

        with factory() as session:
            load_zone(session)
        return work(factory)
    finally:
        engine.dispose()


def configured_paper_known(paper: str) -> bool:
    """Whether the database MASSICOT_DB names holds a paper of this code: the print commands'
    check. Only MASSICOT_DB is consulted (never the implicit local default), and a database
    without papers yet knows every code, so blank booklets print before any import."""
    url = os.environ.get("MASSICOT_DB")
    if not url:
        return True
    from sqlalchemy import inspect, text

    from correction_server.db import make_engine

    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("paper"):
            return True  # no papers imported anywhere yet: nothing to check against
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM paper WHERE code = :c"), {"c": paper}).first() is not None
    except Exception as exc:  # noqa: BLE001 — any driver error becomes a plain sentence
        raise UserError(f"the database in MASSICOT_DB cannot be read: {exc.__class__.__name__}") from None
    finally:
        engine.dispose()


def require_store_folder(settings: Settings) -> None:
    if settings.store_url is None and not settings.store_path.is_dir():
        raise UserError(
            f"No page store at {settings.store_path}: give the server's folder with --store "
            "(or set MASSICOT_STORE)."
        )


def open_page_store(db: str | None, store: Path | None):
    """The page store and the folder of its display images."""
    from correction_server.pages.store import open_store

    settings = Settings.from_env(database_url=db, store_path=store)
    return open_store(settings.store_location), settings.derived_path


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-07-04."
        ) from None


def write_atomically(out: Path, data: bytes) -> None:
    """The file the user named, whole or not at all (plain words if it cannot be written)."""
    with atomic_output(out) as tmp:
        tmp.write_bytes(data)
