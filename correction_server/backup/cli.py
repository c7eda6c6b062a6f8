"""`massicot office backup DIR` and `massicot office restore DIR`: the whole server into a folder and back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from correction_server.cli_support import BY_OPTION_HELP, COMMAND_LINE_OFFICE, DB_OPTION_HELP

app = typer.Typer()

STORE_OPTION_HELP = (
    "The page store: a folder, or s3://bucket/prefix (default: MASSICOT_STORE_URL, else MASSICOT_STORE "
    "or the local folder)."
)


@app.command("backup")
def backup_command(
    folder: Path = typer.Argument(
        ..., help="Folder of the backup; a later backup into it copies only new pages."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
    store: str | None = typer.Option(None, "--store", help=STORE_OPTION_HELP),
    by: str = typer.Option(COMMAND_LINE_OFFICE, "--by", help=BY_OPTION_HELP),
) -> None:
    """Back up the database (a consistent dump) and the page images not yet in the folder.

    Safe while the server runs. The folder always holds the last backup that finished whole."""
    from correction_server.backup.service import make_backup
    from massicot_core.words import command_line_language, translate

    url, location, opened = _services(db, store)
    with _progress("backup") as advance:
        report = make_backup(url, opened, location, folder, by, advance)
    typer.echo(
        translate(
            command_line_language(),
            "backup.done",
            folder=report.folder,
            kind=report.kind,
            revision=report.revision,
            total=report.total,
            copied=report.copied,
            already=report.already,
        )
    )


@app.command("restore")
def restore_command(
    folder: Path = typer.Argument(..., help="Folder that `massicot office backup` wrote."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP + " It must be empty."),
    store: str | None = typer.Option(None, "--store", help=STORE_OPTION_HELP + " It must be empty."),
    by: str = typer.Option(COMMAND_LINE_OFFICE, "--by", help=BY_OPTION_HELP),
) -> None:
    """Restore a backup into an EMPTY database and an EMPTY page store, checking every page.

    Nothing is written if the backup is damaged. The database is left at the backup's revision;
    the server upgrades it when it starts."""
    from correction_server.backup.service import restore_backup
    from massicot_core.words import command_line_language, translate

    url, location, opened = _services(db, store)
    with _progress("restore") as advance:
        report = restore_backup(folder, url, opened, location, by, advance)
    typer.echo(
        translate(
            command_line_language(),
            "restore.done",
            folder=report.folder,
            revision=report.revision,
            objects=report.objects,
        )
    )


def _services(db: str | None, store: str | None):
    """(database URL, store location, the store opened), from the options or the settings."""
    from correction_server.pages.store import open_store
    from correction_server.settings import Settings

    settings = Settings.from_env(database_url=db)
    location = store or settings.store_location
    return settings.database_url, location, open_store(location)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
