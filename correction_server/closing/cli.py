"""`massicot office ...` commands for following the marking and closing a paper.

Each command calls the same services as the office's pages (correction_server.closing,
correction_server.coordination); changes and exports are in the audit log, with the name given
by `--by` (a command on the server has no user account).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import typer

from correction_server.audit.actors import SYSTEM
from correction_server.cli_support import (
    BY_OPTION_HELP,
    DB_OPTION_HELP,
    open_page_store,
    parse_day,
    with_database,
    write_atomically,
)
from massicot_core.errors import UserError

app = typer.Typer()


@app.command("progress")
def progress_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Marking progress per corrector and centre, and correctors whose marks stand out."""
    from correction_server.coordination.harmonisation import distributions, flag_sentence
    from correction_server.coordination.progress import paper_progress
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with factory() as session:
            p = find_paper(session, paper)
            return paper_progress(session, p.id), distributions(session, p.id)

    progress, dist = with_database(db, work)
    t = progress.total
    typer.echo(
        f"{progress.code}: {t.marked}/{t.copies} copies marked, {t.draft} in progress, "
        f"{t.not_started} not started, {progress.undispatched} not dispatched."
    )
    for c in progress.correctors:
        n = c.counts
        typer.echo(f"  {c.name}\t{n.marked}/{n.copies} marked\t{n.draft} in progress")
    for c in progress.centres:
        typer.echo(f"  centre {c.uai}\t{c.counts.marked}/{c.counts.copies} marked")
    r = dist.result
    if r.pool_n:
        typer.echo(f"Pool: {r.pool_n} marked copies, average {r.pool_mean:.2f}, sd {r.pool_sd:.2f}.")
    for c in dist.correctors:
        mark = "FLAG " if c.test.flagged else "     "
        typer.echo(f"  {mark}{c.name}\t{flag_sentence(c, r.pool_mean)}")
    typer.echo(
        f"Flag: permutation test of each corrector's average against the pool ({r.permutations} "
        f"random deals), Holm-corrected: at most {r.alpha:.0%} chance that anyone is flagged when "
        "all mark alike."
    )


@app.command("reconcile")
def reconcile_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Registered, present, absent, scanned, blank, marked, missing per centre; every difference."""
    from correction_server.closing.reconcile import reconcile
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with factory() as session:
            return reconcile(session, find_paper(session, paper).id)

    recon = with_database(db, work)
    typer.echo("centre\tregistered\tpresent\tabsent\tscanned\tblank\tABSENT copies\tmarked\tmissing")
    for c in [*recon.centres, recon.total]:
        typer.echo(
            f"{c.uai or 'total'}\t{c.registered}\t{c.present}\t{c.absent}\t{c.scanned}\t{c.blank}\t"
            f"{c.absent_copies}\t{c.marked}\t{c.missing}"
        )
    for d in recon.differences:
        flag = "BLOCKS EXPORT" if d.blocking else "note"
        who = " ".join(x for x in (d.registration, d.name, d.copy_id) if x)
        typer.echo(f"{flag}\t{d.centre_uai}\t{who}\t{d.problem}")
    if recon.blockers:
        typer.echo(f"{len(recon.blockers)} line(s) stop the jury export.", err=True)
    else:
        typer.echo(f"Ready for the jury: `massicot office export --paper {recon.code} --out marks.csv`.")


@app.command("export")
def export_command(
    paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
    out: Path = typer.Option(..., "--out", help="marks.csv or marks.xlsx (the format follows the name)."),
    anonymised: bool = typer.Option(
        False, "--anonymised", help="Copy ids and marks only, with the paper's statistics (first-group jury)."
    ),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """The marks for the jury: named (registration, name, mark or AB/00), or --anonymised."""
    from correction_server.closing.anonymised import export_anonymised
    from correction_server.closing.export import export_marks
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    kind = out.suffix.lower().lstrip(".")
    if kind not in ("csv", "xlsx"):
        raise UserError(f"{out}: name the file .csv or .xlsx, the format follows the name.")
    export = export_anonymised if anonymised else export_marks

    def work(factory):
        with transaction(factory) as session:
            return export(session, find_paper(session, paper).id, kind, SYSTEM, by)

    done = with_database(db, work)
    write_atomically(out, done.data)
    what = "copies (anonymised)" if anonymised else "candidates"
    typer.echo(f"{done.rows} {what} of {paper} written to {out} (the export is in the audit log).")


@app.command("declare-missing")
def declare_missing_command(
    paper: str = typer.Option(..., "--paper"),
    candidate: str = typer.Option(..., "--candidate", help="Registration number."),
    reason: str = typer.Option(..., "--reason", help="Why the copy is missing."),
    by: str = typer.Option(..., "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """State that a registered candidate's copy is missing, so the jury export can go ahead."""
    from correction_server.closing.missing import declare_missing
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with transaction(factory) as session:
            declare_missing(session, find_paper(session, paper).id, candidate, reason, SYSTEM, by)

    with_database(db, work)
    typer.echo(f"Copy of {candidate.upper()} for {paper} declared missing.")


@app.command("jury-mark")
def jury_mark_command(
    paper: str = typer.Option(..., "--paper"),
    candidate: str = typer.Option(..., "--candidate", help="Registration number."),
    mark: str = typer.Option(..., "--mark", help="The jury's mark out of 20, e.g. 12.5."),
    reason: str = typer.Option(..., "--reason", help="The jury's reason."),
    by: str = typer.Option(..., "--by", help="Who decided (the jury's president)."),
    material_error: bool = typer.Option(
        False, "--material-error", help="A lower mark: the correction of a material error."
    ),
    found_by: str = typer.Option("", "--found-by", help="With --material-error: who found the error."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Record a mark set by the jury beside the corrector's (which is kept); it only raises, unless
    it corrects a material error."""
    from correction_server.closing.jury import record_jury_decision
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with transaction(factory) as session:
            d = record_jury_decision(
                session,
                find_paper(session, paper).id,
                candidate,
                mark,
                reason,
                SYSTEM,
                by,
                material_error=material_error,
                material_error_by=found_by,
            )
            return d.original, d.mark_20

    original, new = with_database(db, work)
    typer.echo(
        f"{candidate.upper()} {paper}: jury mark {new} recorded beside the corrector's {original}."
    )


@app.command("hold")
def hold_command(
    candidate: str = typer.Option(..., "--candidate", help="Registration number."),
    reason: str = typer.Option(..., "--reason", help="The procedure."),
    by: str = typer.Option(..., "--by", help=BY_OPTION_HELP),
    report_by: str = typer.Option("", "--report-by", help="Who drew up the report of suspected fraud."),
    report_at: str = typer.Option(
        "", "--report-at", help="When, ISO 8601 with offset (2026-06-10T09:40+02:00)."
    ),
    seized: str = typer.Option("", "--seized", help="What was seized."),
    report_file: Path | None = typer.Option(None, "--report-file", help="The report's scan (PDF, image)."),
    paper: str | None = typer.Option(None, "--paper", help="The paper concerned (default: all his papers)."),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Hold a candidate's results and copy access during a fraud procedure (the jury still gets his
    mark, flagged), with the report of suspected fraud."""
    from correction_server.closing.attachments import Attachment
    from correction_server.closing.holds import ReportIn, place_hold
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    objects = attachment = written_at = None
    if report_by or report_at or report_file or paper:
        try:
            written_at = datetime.fromisoformat(report_at.strip()) if report_at else datetime.now(UTC)
        except ValueError:
            raise UserError(
                f"--report-at {report_at!r} is not a date and time: write it as 2026-06-10T09:40+02:00."
            ) from None
        if report_file is not None:
            objects, _derived = open_page_store(db, store)
        attachment = Attachment(report_file.name, report_file.read_bytes()) if report_file else None

    def work(factory):
        with transaction(factory) as session:
            filled = None
            if report_by or report_at or report_file or paper:
                paper_id = find_paper(session, paper).id if paper else None
                filled = ReportIn(report_by, written_at, seized, paper_id, attachment)
            place_hold(session, candidate, reason, SYSTEM, by, report=filled, store=objects)

    with_database(db, work)
    typer.echo(f"Results and copy access of {candidate.upper()} held (the jury gets his marks, flagged).")


@app.command("release")
def release_command(
    candidate: str = typer.Option(..., "--candidate", help="Registration number."),
    reason: str = typer.Option(..., "--reason", help="How the procedure ended."),
    by: str = typer.Option(..., "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Release a hold."""
    from correction_server.closing.holds import release_hold
    from correction_server.db import transaction

    def work(factory):
        with transaction(factory) as session:
            release_hold(session, candidate, reason, SYSTEM, by)

    with_database(db, work)
    typer.echo(f"Hold on {candidate.upper()} released.")


@app.command("publish")
def publish_command(
    paper: str = typer.Option(..., "--paper"),
    on: str | None = typer.Option(None, "--on", help="Publication date YYYY-MM-DD (default: today)."),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Record when results were published: candidates may consult their copy for one year after."""
    from correction_server.closing.publication import one_year_after, publish_results
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    when = datetime.combine(parse_day(on, "--on"), time(12, 0), tzinfo=UTC) if on else datetime.now(UTC)

    def work(factory):
        with transaction(factory) as session:
            return publish_results(session, find_paper(session, paper).id, when, SYSTEM, by)

    row = with_database(db, work)
    until = one_year_after(row.published_at)
    typer.echo(
        f"Results of {paper} published on {row.published_at:%Y-%m-%d}; "
        f"consultation until {until:%Y-%m-%d}."
    )


@app.command("consultation")
def consultation_command(
    paper: str = typer.Option(..., "--paper"),
    candidate: str = typer.Option(..., "--candidate", help="Registration number."),
    out: Path = typer.Option(..., "--out", help="The PDF to write."),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """The candidate's marked copy as a PDF: pages with annotations, marks per question, appreciation."""
    from correction_server.closing.consultation import consultation_pdf
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    objects, derived = open_page_store(db, store)

    def work(factory):
        with transaction(factory) as session:
            return consultation_pdf(
                session, objects, derived, find_paper(session, paper).id, candidate, SYSTEM, by
            )

    data = with_database(db, work)
    write_atomically(out, data)
    typer.echo(f"Consultation copy of {candidate.upper()} ({paper}) written to {out}.")


@app.command("payment")
def payment_command(
    out: Path = typer.Option(..., "--out", help="The CSV to write."),
    paper: str | None = typer.Option(None, "--paper", help="One paper only (default: all)."),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Copies marked per corrector and paper (and second readings), for payment."""
    from correction_server.closing.payment import payment_csv
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with transaction(factory) as session:
            paper_id = find_paper(session, paper).id if paper else None
            return payment_csv(session, SYSTEM, by, paper_id)

    data = with_database(db, work)
    write_atomically(out, data)
    lines = data.count(b"\n") - 1
    typer.echo(f"{lines} lines written to {out}.")


@app.command("purge")
def purge_command(
    before: str = typer.Option(
        ..., "--before", help="Purge papers whose results were published before this date (YYYY-MM-DD)."
    ),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Delete copies' page images past the legal year; marks and the audit log are kept."""
    from correction_server.closing.retention import purge

    day = parse_day(before, "--before")
    objects, derived = open_page_store(db, store)

    def work(factory):
        with factory() as session:
            return purge(session, objects, derived, day, SYSTEM, by)

    typer.echo(str(with_database(db, work)))
