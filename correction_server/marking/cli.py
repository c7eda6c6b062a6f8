"""`massicot office lock-scheme`: the barème locked after the standardisation meeting."""

from __future__ import annotations

import typer

from correction_server.cli_support import DB_OPTION_HELP, with_database

app = typer.Typer()


@app.command("lock-scheme")
def lock_scheme_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    session_name: str | None = typer.Option(None, "--session", help="The exam session, if several."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Lock the barème after the standardisation meeting: correctors may then enter marks."""
    from correction_server.audit.log import SYSTEM
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper
    from correction_server.marking.scheme import lock_scheme

    def work(factory):
        with transaction(factory) as session:
            return lock_scheme(session, find_paper(session, paper, session_name), SYSTEM)

    from correction_server.web.clock import local_text

    locked_at = with_database(db, work)
    typer.echo(f"Barème of {paper} locked on {local_text(locked_at)}: correctors can enter marks.")
