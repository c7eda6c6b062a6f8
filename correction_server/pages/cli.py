"""`massicot office render-pages`: display images left unmade."""

from __future__ import annotations

from pathlib import Path

import typer

from correction_server.cli_support import DB_OPTION_HELP, require_store_folder, with_database

app = typer.Typer()


@app.command("render-pages")
def render_pages_command(
    paper: str | None = typer.Option(None, "--paper", help="Only this paper's pages (default: every page)."),
    session_name: str | None = typer.Option(None, "--session", help="The exam session, if several."),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    jobs: int = typer.Option(0, "--jobs", help="Processes rendering at once (default: one per core).", min=0),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Make the display images that are missing (the server makes them when lots arrive).

    For a derived folder that was lost or a server that was stopped mid-lot; safe while the
    server runs.
    """
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from correction_server.dispatch.planning import find_paper
    from correction_server.pages.rendering import render_missing
    from correction_server.settings import Settings

    settings = Settings.from_env(database_url=db, store_path=store)
    require_store_folder(settings)

    def work(factory):
        paper_id = None
        if paper is not None:
            with factory() as session:
                paper_id = find_paper(session, paper, session_name).id
        columns = (
            TextColumn("display images"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("render", total=None)

            def advance(done: int, total: int, _outcome) -> None:
                bar.update(task, completed=done, total=total)

            return render_missing(
                factory,
                settings.store_path,
                paper_id,
                jobs=jobs or os.cpu_count() or 1,
                progress=advance,
                store_url=settings.store_url,
            )

    report = with_database(settings.database_url, work)
    for failure in report.failed[:20]:
        typer.echo(f"not rendered: {failure}", err=True)
    if len(report.failed) > 20:
        typer.echo(f"… and {len(report.failed) - 20} more not rendered", err=True)
    typer.echo(
        f"{report.rendered} pages rendered, {report.present} already there, {len(report.failed)} failed, "
        f"in {report.seconds:.1f} s ({report.rendered_per_s:.1f} pages/s)."
    )
    if report.failed:
        raise typer.Exit(1)
