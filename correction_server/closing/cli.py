"""`massicot office ...` commands for following the marking and closing a paper.

Each command calls the same services as the office's pages (correction_server.closing,
correction_server.coordination); changes and exports are in the audit log, with the name given
by `--by` (a command on the server has no user account).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import typer

from massicot_core.errors import UserError

_DB = "Database URL (default: MASSICOT_DB or the local SQLite)."
_BY = "Who does it (name), kept in the audit log."


def _run(db: str | None, work):
    from correction_server.cli import _with_database

    return _with_database(db, work)


def _store(db: str | None, store: Path | None):
    from correction_server.pages.store import open_store
    from correction_server.settings import Settings

    settings = Settings.from_env(database_url=db, store_path=store)
    return open_store(settings.store_path), settings.store_path / "derived"


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-07-04."
        ) from None


def _write(out: Path, data: bytes) -> None:
    from paper.printing import atomic_output

    with atomic_output(out) as tmp:
        tmp.write_bytes(data)


def register_closing_commands(office_app: typer.Typer) -> None:  # noqa: C901 - one place lists them all
    from correction_server.audit.actors import SYSTEM

    @office_app.command("progress")
    def progress_command(
        paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Marking progress per corrector and centre, and correctors whose marks stand out."""
        from correction_server.coordination import service as coordination
        from correction_server.dispatch.planning import find_paper

        def work(factory):
            with factory() as session:
                p = find_paper(session, paper)
                return coordination.paper_progress(session, p.id), coordination.distributions(session, p.id)

        progress, dist = _run(db, work)
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
            typer.echo(f"  {mark}{c.name}\t{coordination.flag_sentence(c, r.pool_mean)}")
        typer.echo(
            f"Flag: permutation test of each corrector's average against the pool ({r.permutations} "
            f"random deals), Holm-corrected: at most {r.alpha:.0%} chance that anyone is flagged when "
            "all mark alike."
        )

    @office_app.command("reconcile")
    def reconcile_command(
        paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Registered, present, absent, scanned, blank, marked, missing per centre; every difference."""
        from correction_server.closing import service as closing
        from correction_server.dispatch.planning import find_paper

        def work(factory):
            with factory() as session:
                return closing.reconcile(session, find_paper(session, paper).id)

        recon = _run(db, work)
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

    @office_app.command("export")
    def export_command(
        paper: str = typer.Option(..., "--paper", help="The paper's code, e.g. U3."),
        out: Path = typer.Option(..., "--out", help="marks.csv or marks.xlsx (the format follows the name)."),
        by: str = typer.Option("exam office (command line)", "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """The de-anonymised marks for the jury (registration, name, paper, mark or AB/00)."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction
        from correction_server.dispatch.planning import find_paper

        kind = out.suffix.lower().lstrip(".")
        if kind not in ("csv", "xlsx"):
            raise UserError(f"{out}: name the file .csv or .xlsx, the format follows the name.")

        def work(factory):
            with transaction(factory) as session:
                return closing.export_marks(session, find_paper(session, paper).id, kind, SYSTEM, by)

        export = _run(db, work)
        _write(out, export.data)
        typer.echo(f"{export.rows} candidates of {paper} written to {out} (the export is in the audit log).")

    @office_app.command("declare-missing")
    def declare_missing_command(
        paper: str = typer.Option(..., "--paper"),
        candidate: str = typer.Option(..., "--candidate", help="Registration number."),
        reason: str = typer.Option(..., "--reason", help="Why the copy is missing."),
        by: str = typer.Option(..., "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """State that a registered candidate's copy is missing, so the jury export can go ahead."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction
        from correction_server.dispatch.planning import find_paper

        def work(factory):
            with transaction(factory) as session:
                closing.declare_missing(session, find_paper(session, paper).id, candidate, reason, SYSTEM, by)

        _run(db, work)
        typer.echo(f"Copy of {candidate.upper()} for {paper} declared missing.")

    @office_app.command("jury-mark")
    def jury_mark_command(
        paper: str = typer.Option(..., "--paper"),
        candidate: str = typer.Option(..., "--candidate", help="Registration number."),
        mark: str = typer.Option(..., "--mark", help="The jury's mark out of 20, e.g. 12.5."),
        reason: str = typer.Option(..., "--reason", help="The jury's reason."),
        by: str = typer.Option(..., "--by", help="Who decided (the jury's president)."),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Record a mark set by the jury beside the corrector's (which is kept)."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction
        from correction_server.dispatch.planning import find_paper

        def work(factory):
            with transaction(factory) as session:
                d = closing.record_jury_decision(
                    session, find_paper(session, paper).id, candidate, mark, reason, SYSTEM, by
                )
                return d.original, d.mark_20

        original, new = _run(db, work)
        typer.echo(
            f"{candidate.upper()} {paper}: jury mark {new} recorded beside the corrector's {original}."
        )

    @office_app.command("hold")
    def hold_command(
        candidate: str = typer.Option(..., "--candidate", help="Registration number."),
        reason: str = typer.Option(..., "--reason", help="The procedure."),
        by: str = typer.Option(..., "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Hold a candidate's results and copy access during a fraud procedure."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction

        def work(factory):
            with transaction(factory) as session:
                closing.place_hold(session, candidate, reason, SYSTEM, by)

        _run(db, work)
        typer.echo(f"Results and copy access of {candidate.upper()} held.")

    @office_app.command("release")
    def release_command(
        candidate: str = typer.Option(..., "--candidate", help="Registration number."),
        reason: str = typer.Option(..., "--reason", help="How the procedure ended."),
        by: str = typer.Option(..., "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Release a hold."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction

        def work(factory):
            with transaction(factory) as session:
                closing.release_hold(session, candidate, reason, SYSTEM, by)

        _run(db, work)
        typer.echo(f"Hold on {candidate.upper()} released.")

    @office_app.command("publish")
    def publish_command(
        paper: str = typer.Option(..., "--paper"),
        on: str | None = typer.Option(None, "--on", help="Publication date YYYY-MM-DD (default: today)."),
        by: str = typer.Option("exam office (command line)", "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Record when results were published: candidates may consult their copy for one year after."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction
        from correction_server.dispatch.planning import find_paper

        when = datetime.combine(_day(on, "--on"), time(12, 0), tzinfo=UTC) if on else datetime.now(UTC)

        def work(factory):
            with transaction(factory) as session:
                return closing.publish_results(session, find_paper(session, paper).id, when, SYSTEM, by)

        row = _run(db, work)
        until = closing.one_year_after(row.published_at)
        typer.echo(
            f"Results of {paper} published on {row.published_at:%Y-%m-%d}; "
            f"consultation until {until:%Y-%m-%d}."
        )

    @office_app.command("consultation")
    def consultation_command(
        paper: str = typer.Option(..., "--paper"),
        candidate: str = typer.Option(..., "--candidate", help="Registration number."),
        out: Path = typer.Option(..., "--out", help="The PDF to write."),
        store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
        by: str = typer.Option("exam office (command line)", "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """The candidate's marked copy as a PDF: pages with annotations, marks per question, appreciation."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction
        from correction_server.dispatch.planning import find_paper

        objects, derived = _store(db, store)

        def work(factory):
            with transaction(factory) as session:
                return closing.consultation_pdf(
                    session, objects, derived, find_paper(session, paper).id, candidate, SYSTEM, by
                )

        data = _run(db, work)
        _write(out, data)
        typer.echo(f"Consultation copy of {candidate.upper()} ({paper}) written to {out}.")

    @office_app.command("payment")
    def payment_command(
        out: Path = typer.Option(..., "--out", help="The CSV to write."),
        paper: str | None = typer.Option(None, "--paper", help="One paper only (default: all)."),
        by: str = typer.Option("exam office (command line)", "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Copies marked per corrector and paper (and second readings), for payment."""
        from correction_server.closing import service as closing
        from correction_server.db import transaction
        from correction_server.dispatch.planning import find_paper

        def work(factory):
            with transaction(factory) as session:
                paper_id = find_paper(session, paper).id if paper else None
                return closing.payment_csv(session, SYSTEM, by, paper_id)

        data = _run(db, work)
        _write(out, data)
        lines = data.count(b"\n") - 1
        typer.echo(f"{lines} lines written to {out}.")

    @office_app.command("purge")
    def purge_command(
        before: str = typer.Option(
            ..., "--before", help="Purge papers whose results were published before this date (YYYY-MM-DD)."
        ),
        store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
        by: str = typer.Option("exam office (command line)", "--by", help=_BY),
        db: str | None = typer.Option(None, "--db", help=_DB),
    ) -> None:
        """Delete copies' page images past the legal year; marks and the audit log are kept."""
        from correction_server.closing import service as closing

        day = _day(before, "--before")
        objects, derived = _store(db, store)

        def work(factory):
            with factory() as session:
                return closing.purge(session, objects, derived, day, SYSTEM, by)

        typer.echo(str(_run(db, work)))
