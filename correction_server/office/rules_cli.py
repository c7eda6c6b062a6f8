"""`massicot office paper-documents`, `flags`, `flag-decide`, `incompatibility`, `teaches-also`,
`incompatibilities`: the marking rules the office keeps (subject and corrigé, corrector flags,
conflicts of interest). The same services as the office pages."""

from __future__ import annotations

from pathlib import Path

import typer

from correction_server.cli_support import COMMAND_LINE_OFFICE, DB_OPTION_HELP, open_page_store, with_database

app = typer.Typer()
STORE_HELP = "Folder of the page images (default: MASSICOT_STORE)."


def _actor():
    from correction_server.audit.log import SYSTEM

    return SYSTEM


@app.command("paper-documents")
def paper_documents(
    paper: str = typer.Argument(..., help="The paper's code, e.g. U3."),
    subject: Path | None = typer.Option(None, "--subject", help="The subject (sujet), a PDF."),
    model_answer: Path | None = typer.Option(
        None, "--model-answer", help="The model answer (corrigé), a PDF."
    ),
    session_name: str | None = typer.Option(
        None, "--session", help="The session, when several have this paper."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Give the paper's correctors and coordinators its subject and corrigé (PDF); no file: list them."""
    from correction_server.dispatch.planning import find_paper
    from correction_server.models import DocumentKind
    from correction_server.office import documents

    object_store, _derived = open_page_store(db, store)

    def work(factory):
        with factory() as session:
            found = find_paper(session, paper, session_name)
            for kind, path in ((DocumentKind.SUBJECT, subject), (DocumentKind.MODEL_ANSWER, model_answer)):
                if path is None:
                    continue
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
                documents.upload(
                    session, object_store, _actor(), COMMAND_LINE_OFFICE, found.id, kind, data, path.name
                )
                typer.echo(f"{found.code}: {kind.value} {path.name} ({len(data)} bytes) kept")
            for document in documents.documents_of(session, found.id):
                typer.echo(
                    f"{found.code}  {document.kind.value:13}  {document.filename}  {document.size} bytes  "
                    f"{document.uploaded_at:%Y-%m-%d %H:%M} UTC  {document.sha256[:12]}"
                )

    with_database(db, work)


@app.command("flags")
def flags_list(db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP)) -> None:
    """The correctors' flags waiting for the office (identifying sign, unreadable page, foreign page)."""
    from correction_server.office.flags import waiting_flags

    def work(factory):
        with factory() as session:
            rows = waiting_flags(session)
        if not rows:
            typer.echo("no flag waiting")
        for f in rows:
            page = f"page {f.page_number}" if f.page_number else "no page"
            choices = " | ".join(f.decisions) or "waiting for the rescan"
            typer.echo(
                f"{f.id:5}  {f.paper_code:5} copy {f.copy_id} {page:8} {f.kind:17} by {f.raised_by}: "
                f"{f.note}  → {choices}"
            )

    with_database(db, work)


@app.command("flag-decide")
def flag_decide(
    flag: int = typer.Argument(..., help="The flag's number, as `massicot office flags` lists it."),
    decision: str = typer.Argument(..., help="mask, note, move or rescan (as the flag's kind allows)."),
    note: str = typer.Option("", "--note", help="Why (kept with the decision)."),
    zone: str | None = typer.Option(
        None,
        "--zone",
        help="For mask: LEFT,TOP,WIDTH,HEIGHT in percent of the upright page, e.g. 10,80,30,10.",
    ),
    to_copy: str | None = typer.Option(None, "--to-copy", help="For move: the copy the page belongs to."),
    page: int | None = typer.Option(
        None, "--page", help="For rescan: the page number to scan (default: the flag's)."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Decide on a corrector's flag; the copy goes back to him once no flag on it waits."""
    from correction_server.office.flags import decide
    from correction_server.pages.zones import parse_zone

    object_store, _derived = open_page_store(db, store) if decision == "mask" else (None, None)
    parsed = parse_zone(zone) if zone else None

    def work(factory):
        with factory() as session:
            return decide(
                session,
                _actor(),
                flag,
                decision,
                note,
                store=object_store,
                zone=parsed,
                target_copy=to_copy,
                page_number=page,
            )

    typer.echo(with_database(db, work))


@app.command("incompatibility")
def incompatibility(
    corrector: str = typer.Argument(..., help="The corrector's login (e-mail)."),
    candidate: str | None = typer.Option(None, "--candidate", help="The candidate's registration number."),
    establishment: str | None = typer.Option(None, "--establishment", help="The établissement's UAI code."),
    reason: str = typer.Option(..., "--reason", help="Why (e.g. 'tuteur de stage')."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Record that a corrector must never mark a candidate (or an établissement's candidates)."""
    from correction_server.office.incompatibilities import record

    def work(factory):
        with factory() as session:
            row = record(
                session,
                _actor(),
                COMMAND_LINE_OFFICE,
                corrector,
                candidate=candidate,
                establishment=establishment,
                reason=reason,
            )
            return row.id

    number = with_database(db, work)
    typer.echo(
        f"incompatibility {number} recorded: dispatch, reassignment and second reading will honour it "
        "(copies already handed out do not move: reassign them if needed)"
    )


@app.command("teaches-also")
def teaches_also(
    corrector: str = typer.Argument(..., help="The corrector's login (e-mail)."),
    establishment: str = typer.Argument(..., help="Another établissement where he teaches (UAI code)."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Record another établissement where a corrector teaches: he never marks its candidates."""
    from correction_server.office.incompatibilities import teaches_also as add

    def work(factory):
        with factory() as session:
            return add(session, _actor(), corrector, establishment)

    typer.echo(with_database(db, work))


@app.command("incompatibilities")
def incompatibilities(db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP)) -> None:
    """Every incompatibility the office recorded."""
    from correction_server.office.incompatibilities import listing

    def work(factory):
        with factory() as session:
            return listing(session)

    rows = with_database(db, work)
    if not rows:
        typer.echo("no incompatibility recorded")
    for row in rows:
        what = f"candidate {row.candidate}" if row.candidate else f"établissement {row.establishment}"
        typer.echo(f"{row.id:5}  {row.corrector} ↔ {what}: {row.reason}")
