"""`massicot office centre-token` and `reset-password`: a station's token, an account's one-time password."""

from __future__ import annotations

import typer

from correction_server.cli_support import COMMAND_LINE_OFFICE, DB_OPTION_HELP, with_database

app = typer.Typer()


@app.command("centre-token")
def centre_token(
    uai: str = typer.Argument(..., help="The centre's UAI code, e.g. 0130040Y."),
    name: str | None = typer.Option(None, "--name", help="The centre's name (creates or renames it)."),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: MASSICOT_DB or the local SQLite)."
    ),
) -> None:
    """Issue the token a centre's scan station pushes with. Shown once; a new one replaces the old."""
    from correction_server.auth.tokens import issue_centre_token
    from correction_server.db import transaction

    def work(factory):
        with transaction(factory) as session:
            return issue_centre_token(session, uai, name)

    token = with_database(db, work)
    typer.echo(token)
    typer.echo(
        f"This is the only time the token of centre {uai.upper()} is shown; "
        "any older token no longer works.\n"
        "On the scan station, put it in ~/.config/massicot/token (chmod 600) or in the environment "
        "variable MASSICOT_TOKEN.",
        err=True,
    )


@app.command("reset-password")
def reset_password_command(
    email: str = typer.Argument(..., help="The account's username (its e-mail address)."),
    by: str = typer.Option(COMMAND_LINE_OFFICE, "--by", help="Who resets it (name), kept in the audit log."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Give an account a one-time password: its owner must choose his own at the next login.

    The reset is in the audit log (who, whose account, when), the password never."""
    from correction_server.audit.actors import SYSTEM
    from correction_server.auth.passwords import reset_password
    from correction_server.db import transaction

    def work(factory):
        with transaction(factory) as session:
            return reset_password(session, email, SYSTEM, by)

    reset = with_database(db, work)
    typer.echo(reset.one_time_password)
    typer.echo(
        f"One-time password of {reset.username}, shown only now: hand it to its owner, who must choose "
        f"his own password at the next login. {reset.sessions_ended} open session(s) of this account ended.",
        err=True,
    )
