"""`massicot office purge-uploads`: pushes a station left unfinished."""

from __future__ import annotations

from pathlib import Path

import typer

from correction_server.cli_support import (
    COMMAND_LINE_OFFICE,
    DB_OPTION_HELP,
    require_store_folder,
    with_database,
)

app = typer.Typer()


@app.command("purge-uploads")
def purge_uploads_command(
    older_than: int = typer.Option(
        ..., "--older-than", help="Purge pushes with no request for this many days (2 or more)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted; delete nothing."),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    by: str = typer.Option(COMMAND_LINE_OFFICE, "--by", help="Who purges (name), kept in the audit log."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Delete pushes left unfinished (station gone, lot sealed again) and the images only they hold.

    Received lots are never touched, nor an image a received lot or another push uses; a station
    pushing the lot again later starts over. Safe while the server runs.
    """
    from correction_server.intake.purge import check_threshold, purge_uploads
    from correction_server.pages.store import open_store
    from correction_server.settings import Settings

    check_threshold(older_than)
    settings = Settings.from_env(database_url=db, store_path=store)
    require_store_folder(settings)
    objects = open_store(settings.store_location)
    report = with_database(
        settings.database_url,
        lambda factory: purge_uploads(factory, objects, older_than, by, dry_run=dry_run),
    )
    typer.echo(str(report))
    if report.problems:
        raise typer.Exit(1)
