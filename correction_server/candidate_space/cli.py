"""`massicot office candidate-access`: the access letters of a paper's or a centre's candidates."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from correction_server.cli_support import (
    BY_OPTION_HELP,
    COMMAND_LINE_OFFICE,
    DB_OPTION_HELP,
    with_database,
    write_atomically,
)

app = typer.Typer()

DEFAULT_ADDRESS = "http://localhost:8000/candidate"


@app.command("candidate-access")
def candidate_access_command(
    out: Path = typer.Option(..., "--out", help="The PDF to write, one page per candidate."),
    paper: str | None = typer.Option(
        None, "--paper", help="Every candidate registered for this paper (code, e.g. U3)."
    ),
    centre: str | None = typer.Option(
        None, "--centre", help="Every candidate of this centre (UAI, e.g. 0130040Y)."
    ),
    valid_days: int = typer.Option(60, "--valid-days", help="How long the codes work (1 to 366 days)."),
    address: str | None = typer.Option(
        None,
        "--address",
        help="The space's address printed on the letters (default: MASSICOT_PUBLIC_URL + /candidate).",
    ),
    by: str = typer.Option(COMMAND_LINE_OFFICE, "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Access letters with one-time activation codes; earlier unused codes of these candidates stop working.

    The codes are printed only in the PDF: keep it as you would the candidates' letters."""
    from correction_server.audit.actors import SYSTEM
    from correction_server.candidate_space import letters
    from correction_server.db import transaction
    from massicot_core.words import command_line_language, translate

    public = os.environ.get("MASSICOT_PUBLIC_URL")
    where = address or (public.rstrip("/") + "/candidate" if public else DEFAULT_ADDRESS)
    lang = command_line_language()
    scope = f"paper {paper.strip().upper()}" if paper else f"centre {(centre or '').strip().upper()}"

    def work(factory):
        with transaction(factory) as session:
            chosen = letters.candidates_for(session, paper, centre)
            issued = letters.issue_codes(session, chosen, SYSTEM, by, scope, valid_days)
            # Written before the codes are committed: a letter file that cannot be written
            # leaves the older codes working.
            write_atomically(out, letters.letters_pdf(issued, where, lang))
            return len(issued)

    n = with_database(db, work)
    typer.echo(translate(lang, "candidate.cli.letters", n=n, path=out))
