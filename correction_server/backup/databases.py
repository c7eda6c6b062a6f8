"""The database half of a backup: a consistent dump, its check, and its restore into an empty database.

SQLite is copied with its online backup API (a consistent copy while the server writes);
PostgreSQL with `pg_dump --format=custom` (one snapshot) and `pg_restore` in one transaction.
The PostgreSQL programs get the address without SQLAlchemy's driver part and the password in
PGPASSWORD, so that it never shows in the list of processes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from correction_server.migrate import current_revisions
from massicot_core.errors import Refused

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DUMP_SUFFIX = {SQLITE: ".sqlite3", POSTGRESQL: ".pgdump"}
# pg_dump and pg_restore of a large session take minutes; a stuck one is stopped after this.
TOOL_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class Database:
    """A database named by its SQLAlchemy URL."""

    url: str

    @property
    def kind(self) -> str:
        return SQLITE if make_url(self.url).drivername.startswith("sqlite") else POSTGRESQL

    @property
    def shown(self) -> str:
        """The address for messages, without its password."""
        return make_url(self.url).render_as_string(hide_password=True)

    def sqlite_path(self) -> Path:
        name = make_url(self.url).database
        if not name or name == ":memory:":
            raise Refused(400, "backup.unreachable", db=self.shown, reason="no file")
        return Path(name)

    def tables(self, unreachable_key: str) -> list[str]:
        """Every table the database holds, in any schema but PostgreSQL's own."""
        if self.kind == SQLITE and not self.sqlite_path().exists():
            return []
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            found = inspect(engine)
            schemas = [s for s in found.get_schema_names() if s not in ("information_schema", "pg_catalog")]
            if self.kind == SQLITE:
                schemas = ["main"]
            return sorted(table for schema in schemas for table in found.get_table_names(schema=schema))
        except SQLAlchemyError as exc:
            raise Refused(400, unreachable_key, db=self.shown, reason=_first_line(exc)) from None
        finally:
            engine.dispose()

    def revision(self) -> str | None:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                found = current_revisions(connection)
        finally:
            engine.dispose()
        return found[0] if len(found) == 1 else None

    # ---------------------------------------------------------------- PostgreSQL's programs

    def _libpq(self) -> tuple[str, dict[str, str]]:
        url: URL = make_url(self.url)
        env = dict(os.environ)
        if url.password is not None:
            env["PGPASSWORD"] = str(url.password)
        # URL.set() takes None as "unchanged": the password is dropped with _replace.
        bare = url.set(drivername="postgresql")._replace(password=None)
        address = bare.render_as_string(hide_password=False)
        return address, env

    def _run(self, tool: str, args: list[str], failed_key: str, **values: object) -> None:
        program = shutil.which(tool)
        if program is None:
            raise Refused(500, "backup.tool_missing", tool=tool)
        address, env = self._libpq()
        try:
            result = subprocess.run(
                [program, f"--dbname={address}", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=TOOL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Refused(500, failed_key, tool=tool, db=self.shown, reason="timed out", **values) from None
        if result.returncode != 0:
            reason = _first_line(result.stderr) or f"exit code {result.returncode}"
            raise Refused(500, failed_key, tool=tool, db=self.shown, reason=reason, **values)

    # ---------------------------------------------------------------- dump and restore

    def dump(self, target: Path) -> None:
        """A consistent copy of the whole database into the file `target`."""
        if self.kind == POSTGRESQL:
            self._run("pg_dump", ["--format=custom", "--no-owner", f"--file={target}"], "backup.dump_failed")
            _fsync(target)
            return
        source = sqlite3.connect(self.sqlite_path(), timeout=30)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        except sqlite3.Error as exc:
            raise Refused(500, "backup.dump_failed", tool="sqlite3", db=self.shown, reason=str(exc)) from None
        finally:
            copy.close()
            source.close()
        _fsync(target)

    def restore(self, dump: Path) -> None:
        """The dump into this database, which the caller found empty."""
        if self.kind == POSTGRESQL:
            # One transaction: a dump refused half-way leaves the database empty as it was.
            args = ["--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges", str(dump)]
            self._run("pg_restore", args, "restore.failed", file=dump)
            return
        path = self.sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        target = sqlite3.connect(path, timeout=30)
        try:
            source.backup(target)
        except sqlite3.Error as exc:
            raise Refused(
                500, "restore.failed", tool="sqlite3", file=dump, db=self.shown, reason=str(exc)
            ) from None
        finally:
            target.close()
            source.close()


def dump_is_readable(kind: str, dump: Path) -> bool:
    """Whether the dump's own format holds together (beside the hash the manifest recorded)."""
    if kind == POSTGRESQL:
        program = shutil.which("pg_restore")
        if program is None:
            raise Refused(500, "backup.tool_missing", tool="pg_restore")
        listed = subprocess.run([program, "--list", str(dump)], capture_output=True, timeout=600, check=False)
        return listed.returncode == 0
    try:
        connection = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        try:
            return connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            connection.close()
    except sqlite3.Error:
        return False


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _first_line(error: object) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else ""
