"""`massicot office import ...`, `users ...` and `roll`: what the office prepares before the paper."""

from __future__ import annotations

from pathlib import Path

import typer

from correction_server.cli_support import COMMAND_LINE_OFFICE, DB_OPTION_HELP, with_database, write_atomically

app = typer.Typer()


import_app = typer.Typer(
    help="Import the candidate list and the papers with their barème. A file with any bad line "
    "imports nothing; importing the same file again changes nothing.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
users_app = typer.Typer(help="Accounts of correctors, coordinators and office staff.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@import_app.command("candidates")
def import_candidates_command(
    file: Path = typer.Argument(
        ...,
        help="CSV (UTF-8) or XLSX with the columns registration, surname, given_names, birth_date, "
        "establishment_uai, establishment_name, centre_uai, centre_name, papers (and optionally session).",
    ),
    registration_digits: int | None = typer.Option(
        None,
        "--registration-digits",
        min=4,
        max=16,
        help="Every registration number has exactly this many digits. In an XLSX, a registration the "
        "spreadsheet stored as a number then gets back the leading zeros it dropped (each such line is "
        "listed to be checked); without it, such lines are refused.",
    ),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Create or update candidates, their centres, establishments and papers (the roll)."""
    from correction_server.office.candidates import import_candidates

    typer.echo(str(with_database(db, lambda factory: import_candidates(factory, file, registration_digits))))


@import_app.command("paper")
def import_paper_command(
    file: Path = typer.Argument(..., help="YAML: session, code, title, date, max_mark, pages, questions..."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Create or update a paper and its barème (questions with their maximum and step)."""
    from correction_server.office.papers import import_paper

    typer.echo(str(with_database(db, lambda factory: import_paper(factory, file))))


@users_app.command("import")
def import_users_command(
    file: Path = typer.Argument(
        ...,
        help="CSV (UTF-8) or XLSX with the columns name, email, establishment_uai, papers "
        "(and optionally capacity, role: corrector by default, coordinator, office).",
    ),
    links: bool = typer.Option(
        False, "--links", help="Print a set-password link per new account instead of an initial password."
    ),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000", "--base-url", help="The server's address, to print whole links."
    ),
    by: str = typer.Option(
        COMMAND_LINE_OFFICE, "--by", help="Who imports the file (name), kept in the audit log."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Create or update accounts. New accounts' passwords (or links) are shown once.

    Each account created or changed is in the audit log (what changed, old and new), never a password
    or a link; an account the file leaves as it was gets no entry."""
    from correction_server.audit.actors import SYSTEM
    from correction_server.office.accounts import import_accounts
    from correction_server.settings import Settings

    secret = Settings.from_env(database_url=db).secret_key
    result = with_database(db, lambda factory: import_accounts(factory, file, secret, links, SYSTEM, by))
    text = str(result)
    if links:
        text = text.replace("\t/password/", "\t" + base_url.rstrip("/") + "/password/")
    typer.echo(text)


@users_app.command("link")
def user_link_command(
    username: str = typer.Argument(..., help="The account's username (its e-mail address)."),
    base_url: str = typer.Option("http://127.0.0.1:8000", "--base-url", help="The server's address."),
    by: str = typer.Option(
        COMMAND_LINE_OFFICE, "--by", help="Who issues the link (name), kept in the audit log."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Print a one-time link with which the person chooses a new password (valid 7 days).

    The audit log keeps whose account, who issued the link and until when it works; never the link."""
    from correction_server.audit.actors import SYSTEM
    from correction_server.db import transaction
    from correction_server.office.accounts import set_password_link
    from correction_server.settings import Settings
    from correction_server.web.clock import local_text, zone_name

    secret = Settings.from_env(database_url=db).secret_key

    def work(factory):
        with transaction(factory) as session:
            return set_password_link(session, username, secret, SYSTEM, by)

    issued = with_database(db, work)
    typer.echo(base_url.rstrip("/") + issued.path)
    typer.echo(
        f"Set-password link of {issued.username}, shown only now: hand it to its owner. It works once, "
        f"until {local_text(issued.expires_at)} ({zone_name()}).",
        err=True,
    )


@app.command("roll")
def roll_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    centre: str = typer.Option(..., "--centre", help="The centre's UAI code, e.g. 0130040Y."),
    out: Path = typer.Option(
        ..., "--out", help="The roll CSV to write (candidate,name,present,room,table,deadline)."
    ),
    room: str | None = typer.Option(None, "--room", help="Only the candidates of this room."),
    session_name: str | None = typer.Option(None, "--session", help="The exam session, if several."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Write a centre's roll for a paper: the centre prints labels and the signing sheet from it."""
    from correction_server.dispatch.planning import find_paper
    from correction_server.office.rolls import placed_roll, placed_roll_csv

    def work(factory):
        with factory() as session:
            found = find_paper(session, paper, session_name)
            return placed_roll_csv(found, placed_roll(session, found, centre, room))

    text = with_database(db, work)
    lines = text.count("\n") - 1
    write_atomically(out, text.encode("utf-8"))
    typer.echo(f"{lines} candidates of centre {centre.upper()} written to {out}.")
