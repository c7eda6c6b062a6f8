"""`massicot audit ...`: the append-only audit log."""

from __future__ import annotations

import typer

from correction_server.cli_support import DB_OPTION_HELP, with_database

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@app.command("verify")
def audit_verify(
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Re-walk the audit log's hash chain and report the first broken link (exit 1 if any)."""
    from correction_server.audit.log import verify_chain

    def work(factory):
        with factory() as session:
            return verify_chain(session)

    check = with_database(db, work)
    if check.intact:
        typer.echo(f"Audit log intact: {check.entries} entries, every link verified.")
        return
    typer.echo(
        f"Audit log BROKEN at entry {check.first_broken_seq}: {check.reason}. "
        "Entries from there on cannot be trusted; keep the database as it is and tell the exam office.",
        err=True,
    )
    raise typer.Exit(1)
