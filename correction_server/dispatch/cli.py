"""`massicot office dispatch`: correction lots from the copies that arrived."""

from __future__ import annotations

import typer

from correction_server.cli_support import DB_OPTION_HELP, with_database

app = typer.Typer()


@app.command("dispatch")
def dispatch_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    seed: int | None = typer.Option(
        None, "--seed", help="Replay a dispatch exactly (default: a random seed)."
    ),
    session_name: str | None = typer.Option(
        None, "--session", help="The exam session, if several have this paper."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Build correction lots from the copies of a paper that are in no lot yet."""
    from correction_server.dispatch.planning import dispatch_paper, find_paper

    def work(factory):
        with factory() as session:
            return dispatch_paper(session, find_paper(session, paper, session_name), seed)

    outcome = with_database(db, work)
    if not outcome.lots:
        typer.echo(f"No new copy to dispatch for paper {outcome.paper_code}.")
    for lot in outcome.lots:
        typer.echo(f"lot {lot.number}\t{lot.copies} copies\t{lot.corrector_name}")
    if outcome.lots:
        typer.echo(
            f"{outcome.copies_dispatched} copies dispatched into {len(outcome.lots)} lots "
            f"(seed {outcome.seed}; `--seed {outcome.seed}` replays it)."
        )
    for note in outcome.notes:
        typer.echo(note)
    if outcome.held_back:
        from correction_server.dispatch.planning import held_back_text

        typer.echo(held_back_text(outcome.held_back), err=True)
