"""`massicot office ...`, `massicot audit ...` and `massicot serve`."""

from __future__ import annotations

from pathlib import Path

import typer

from massicot_core.errors import UserError

office_app = typer.Typer(help="The exam office: imports, dispatch, exports.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@office_app.command("centre-token")
def centre_token(
    uai: str = typer.Argument(..., help="The centre's UAI code, e.g. 0130040Y."),
    name: str | None = typer.Option(None, "--name", help="The centre's name (creates or renames it)."),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: MASSICOT_DB or the local SQLite)."
    ),
) -> None:
    """Issue the token a centre's scan station pushes with. Shown once; a new one replaces the old."""
    from correction_server.auth.tokens import issue_centre_token
    from correction_server.db import make_engine, make_session_factory, transaction
    from correction_server.migrate import upgrade_database
    from correction_server.settings import Settings

    settings = Settings.from_env(database_url=db)
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            token = issue_centre_token(session, uai, name)
    finally:
        engine.dispose()
    typer.echo(token)
    typer.echo(
        f"This is the only time the token of centre {uai.upper()} is shown; "
        "any older token no longer works.\n"
        "On the scan station, put it in ~/.config/massicot/token (chmod 600) or in the environment "
        "variable MASSICOT_TOKEN.",
        err=True,
    )


import_app = typer.Typer(
    help="Import the candidate list and the papers with their barème. A file with any bad line "
    "imports nothing; importing the same file again changes nothing.",
    no_args_is_help=True,
)
office_app.add_typer(import_app, name="import")
_DB_OPTION_HELP = "Database URL (default: MASSICOT_DB or the local SQLite)."
# Who a command on the server acted as, when `--by` names no one (as passwords.COMMAND_LINE_OFFICE,
# which is not imported here: the CLI loads the server's modules only when a command runs).
_COMMAND_LINE_OFFICE = "exam office (command line)"


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
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Create or update candidates, their centres, establishments and papers (the roll)."""
    from correction_server.office.importing import import_candidates

    typer.echo(str(_with_database(db, lambda factory: import_candidates(factory, file, registration_digits))))


@import_app.command("paper")
def import_paper_command(
    file: Path = typer.Argument(..., help="YAML: session, code, title, date, max_mark, pages, questions..."),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Create or update a paper and its barème (questions with their maximum and step)."""
    from correction_server.office.importing import import_paper

    typer.echo(str(_with_database(db, lambda factory: import_paper(factory, file))))


users_app = typer.Typer(help="Accounts of correctors, coordinators and office staff.", no_args_is_help=True)
office_app.add_typer(users_app, name="users")


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
        _COMMAND_LINE_OFFICE, "--by", help="Who imports the file (name), kept in the audit log."
    ),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Create or update accounts. New accounts' passwords (or links) are shown once.

    Each account created or changed is in the audit log (what changed, old and new), never a password
    or a link; an account the file leaves as it was gets no entry."""
    from correction_server.audit.actors import SYSTEM
    from correction_server.office.accounts import import_accounts
    from correction_server.settings import Settings

    secret = Settings.from_env(database_url=db).secret_key
    result = _with_database(db, lambda factory: import_accounts(factory, file, secret, links, SYSTEM, by))
    text = str(result)
    if links:
        text = text.replace("\t/password/", "\t" + base_url.rstrip("/") + "/password/")
    typer.echo(text)


@users_app.command("link")
def user_link_command(
    username: str = typer.Argument(..., help="The account's username (its e-mail address)."),
    base_url: str = typer.Option("http://127.0.0.1:8000", "--base-url", help="The server's address."),
    by: str = typer.Option(
        _COMMAND_LINE_OFFICE, "--by", help="Who issues the link (name), kept in the audit log."
    ),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Print a one-time link with which the person chooses a new password (valid 7 days).

    The audit log keeps whose account, who issued the link and until when it works; never the link."""
    from correction_server.audit.actors import SYSTEM
    from correction_server.db import transaction
    from correction_server.office.accounts import set_password_link
    from correction_server.settings import Settings

    secret = Settings.from_env(database_url=db).secret_key

    def work(factory):
        with transaction(factory) as session:
            return set_password_link(session, username, secret, SYSTEM, by)

    issued = _with_database(db, work)
    typer.echo(base_url.rstrip("/") + issued.path)
    typer.echo(
        f"Set-password link of {issued.username}, shown only now: hand it to its owner. It works once, "
        f"until {issued.expires_at:%Y-%m-%d %H:%M} UTC.",
        err=True,
    )


@office_app.command("reset-password")
def reset_password_command(
    email: str = typer.Argument(..., help="The account's username (its e-mail address)."),
    by: str = typer.Option(_COMMAND_LINE_OFFICE, "--by", help="Who resets it (name), kept in the audit log."),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Give an account a one-time password: its owner must choose his own at the next login.

    The reset is in the audit log (who, whose account, when), the password never."""
    from correction_server.audit.actors import SYSTEM
    from correction_server.auth.passwords import reset_password
    from correction_server.db import transaction

    def work(factory):
        with transaction(factory) as session:
            return reset_password(session, email, SYSTEM, by)

    reset = _with_database(db, work)
    typer.echo(reset.one_time_password)
    typer.echo(
        f"One-time password of {reset.username}, shown only now: hand it to its owner, who must choose "
        f"his own password at the next login. {reset.sessions_ended} open session(s) of this account ended.",
        err=True,
    )


@office_app.command("dispatch")
def dispatch_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    seed: int | None = typer.Option(
        None, "--seed", help="Replay a dispatch exactly (default: a random seed)."
    ),
    session_name: str | None = typer.Option(
        None, "--session", help="The exam session, if several have this paper."
    ),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Build correction lots from the copies of a paper that are in no lot yet."""
    from correction_server.dispatch.planning import dispatch_paper, find_paper

    def work(factory):
        with factory() as session:
            return dispatch_paper(session, find_paper(session, paper, session_name), seed)

    outcome = _with_database(db, work)
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


def _with_database(db: str | None, work):
    """Upgrade the database, run `work(session_factory)`, and always release the engine."""
    from correction_server.db import make_engine, make_session_factory
    from correction_server.migrate import upgrade_database
    from correction_server.settings import Settings

    url = db or Settings.from_env().database_url
    upgrade_database(url)
    engine = make_engine(url)
    try:
        return work(make_session_factory(engine))
    finally:
        engine.dispose()


def register_server_commands(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        db: str | None = typer.Option(
            None, "--db", help="Database URL, e.g. postgresql+psycopg://host/massicot."
        ),
        store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port"),
        workers: int | None = typer.Option(
            None,
            "--workers",
            help="Server processes. Default: one per core on PostgreSQL, one on SQLite (a single writer).",
        ),
        keep_alive: int = typer.Option(
            75,
            "--keep-alive",
            help="Seconds an idle browser connection stays open (a corrector pauses between saves).",
        ),
        access_log: bool = typer.Option(False, "--access-log/--no-access-log"),
    ) -> None:
        """Start the correction server (upgrades the database first)."""
        import os

        import uvicorn

        from correction_server.migrate import upgrade_database
        from correction_server.settings import Settings

        settings = Settings.from_env(database_url=db, store_path=store)
        if workers is None:
            # bench/marking_load.py on 2 cores: 2, 3 and 4 processes within the machine's noise
            # (p95 40-280 ms, all set by what else runs); one per core keeps memory small.
            workers = (os.cpu_count() or 1) if settings.database_url.startswith("postgresql") else 1
        upgrade_database(settings.database_url)
        settings.store_path.mkdir(parents=True, exist_ok=True)
        # Worker processes build their app from the environment, so pass the choices on.
        os.environ["MASSICOT_DB"] = settings.database_url
        os.environ["MASSICOT_STORE"] = str(settings.store_path.resolve())
        os.environ.setdefault("MASSICOT_SECRET_KEY", settings.secret_key)
        typer.echo(f"Massicot server on http://{host}:{port} (API schema: /openapi.json)", err=True)
        uvicorn.run(
            "correction_server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level="warning",
            timeout_keep_alive=keep_alive,
            loop="uvloop",
            http="httptools",
        )


@audit_app.command("verify")
def audit_verify(
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Re-walk the audit log's hash chain and report the first broken link (exit 1 if any)."""
    from correction_server.audit.log import verify_chain
    from correction_server.db import make_engine, make_session_factory
    from correction_server.migrate import upgrade_database
    from correction_server.settings import Settings

    settings = Settings.from_env(database_url=db)
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            check = verify_chain(session)
    finally:
        engine.dispose()
    if check.intact:
        typer.echo(f"Audit log intact: {check.entries} entries, every link verified.")
        return
    typer.echo(
        f"Audit log BROKEN at entry {check.first_broken_seq}: {check.reason}. "
        "Entries from there on cannot be trusted; keep the database as it is and tell the exam office.",
        err=True,
    )
    raise typer.Exit(1)


@office_app.command("roll")
def roll_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    centre: str = typer.Option(..., "--centre", help="The centre's UAI code, e.g. 0130040Y."),
    out: Path = typer.Option(..., "--out", help="The roll CSV to write (candidate,name,present)."),
    session_name: str | None = typer.Option(None, "--session", help="The exam session, if several."),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Write a centre's roll for a paper: the centre prints labels and the signing sheet from it."""
    from correction_server.dispatch.planning import find_paper
    from correction_server.office.rolls import centre_roll
    from massicot_core.roll import roll_csv
    from paper.printing import atomic_output

    def work(factory):
        with factory() as session:
            return centre_roll(session, find_paper(session, paper, session_name), centre)

    lines = _with_database(db, work)
    with atomic_output(out) as tmp:
        tmp.write_text(roll_csv(lines), encoding="utf-8")
    typer.echo(f"{len(lines)} candidates of centre {centre.upper()} written to {out}.")


@office_app.command("lock-scheme")
def lock_scheme_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    session_name: str | None = typer.Option(None, "--session", help="The exam session, if several."),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
) -> None:
    """Lock the barème after the standardisation meeting: correctors may then enter marks."""
    from correction_server.audit.log import SYSTEM
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper
    from correction_server.marking.scheme import lock_scheme

    def work(factory):
        with transaction(factory) as session:
            return lock_scheme(session, find_paper(session, paper, session_name), SYSTEM)

    locked_at = _with_database(db, work)
    typer.echo(f"Barème of {paper} locked on {locked_at:%Y-%m-%d %H:%M} UTC: correctors can enter marks.")


@office_app.command("render-pages")
def render_pages_command(
    paper: str | None = typer.Option(None, "--paper", help="Only this paper's pages (default: every page)."),
    session_name: str | None = typer.Option(None, "--session", help="The exam session, if several."),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    jobs: int = typer.Option(0, "--jobs", help="Processes rendering at once (default: one per core).", min=0),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
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
    if not settings.store_path.is_dir():
        raise UserError(
            f"No page store at {settings.store_path}: give the server's folder with --store "
            "(or set MASSICOT_STORE)."
        )

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
            )

    report = _with_database(settings.database_url, work)
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


@office_app.command("purge-uploads")
def purge_uploads_command(
    older_than: int = typer.Option(
        ..., "--older-than", help="Purge pushes with no request for this many days (2 or more)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted; delete nothing."),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    by: str = typer.Option(_COMMAND_LINE_OFFICE, "--by", help="Who purges (name), kept in the audit log."),
    db: str | None = typer.Option(None, "--db", help=_DB_OPTION_HELP),
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
    if not settings.store_path.is_dir():
        raise UserError(
            f"No page store at {settings.store_path}: give the server's folder with --store "
            "(or set MASSICOT_STORE)."
        )
    objects = open_store(settings.store_path)
    report = _with_database(
        settings.database_url,
        lambda factory: purge_uploads(factory, objects, older_than, by, dry_run=dry_run),
    )
    typer.echo(str(report))
    if report.problems:
        raise typer.Exit(1)


# Following the marking and closing a paper: progress, reconcile, export, jury-mark, hold, release,
# publish, consultation, payment, purge (correction_server/closing_cli.py).
from correction_server.closing.cli import register_closing_commands  # noqa: E402

register_closing_commands(office_app)
