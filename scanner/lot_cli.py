"""`massicot scan import / report / seal / verify / unseal / resolve ...`: the lot's commands.

Mounted on `scan_app` by scanner/cli.py. Each command is thin: the work is in
scanner/importing.py, report.py, resolve.py and seal.py, shared with the review page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from massicot_core.errors import UserError

DIR_HELP = "The lot folder."
BY_HELP = "Who decides (recorded with the decision). Default: the login name."

resolve_app = typer.Typer(
    help=(
        "Resolve the anomalies `massicot scan report` lists. Every decision is recorded in the lot's "
        "journal with who and when; nothing is deleted.\n\n"
        "SOURCE is a sheet as the report names it (FILE#INDEX); COPY is a copy number (9 characters); "
        "CANDIDATE is a registration number."
    ),
    no_args_is_help=True,
)


def _by(by: str | None) -> str:
    from scanner.resolve import default_actor

    return by or default_actor()


def register_lot_commands(scan_app: typer.Typer) -> None:
    scan_app.command("import")(scan_import)
    scan_app.command("report")(scan_report)
    scan_app.command("seal")(scan_seal)
    scan_app.command("verify")(scan_verify)
    scan_app.command("unseal")(scan_unseal)
    scan_app.add_typer(resolve_app, name="resolve")


def scan_import(
    inputs: list[Path] = typer.Argument(..., help="Scan files (PDF, TIFF, JPEG, PNG) or folders of them."),
    paper: str = typer.Option(..., "--paper", help="Paper code, e.g. U3."),
    roll: Path = typer.Option(..., "--roll", help="The roll (CSV: candidate,name,present)."),
    lot: Path = typer.Option(..., "--lot", help="The lot folder (created if needed)."),
    centre: str | None = typer.Option(None, "--centre", help="The centre's UAI code, e.g. 0130040Y."),
    workers: int = typer.Option(0, "--workers", min=0, help="Analysis processes (default: all cores)."),
    pages: int | None = typer.Option(
        None,
        "--pages",
        min=1,
        max=999,
        help="Pages per booklet, recorded when the lot is made (default: the most common in the lot).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No live display, for scripts."),
) -> None:
    """Add scanned files to a lot: read every page, group pages into copies, check them against the roll.

    Running it again on the same files adds nothing; new files are merged into the lot. If it is
    stopped (even by a power cut), run the same command again: it resumes, nothing is lost.
    """
    from scanner.importing import import_files, open_lot, stopped_words
    from scanner.report import build_view, render_text, summary_line

    the_lot = open_lot(lot, paper, roll, centre, pages, by=_by(None))
    console = Console(stderr=True)
    with the_lot.writing():
        count = workers or os.cpu_count() or 1
        try:
            if quiet:
                result = import_files(the_lot, inputs, workers=count)
            else:
                result = _import_with_progress(the_lot, inputs, count, console)
        except OSError as exc:
            raise UserError(stopped_words(exc, the_lot)) from None
    view = build_view(the_lot.state())
    out = Console(highlight=False)
    if not quiet:
        render_text(view, out, str(lot))
    out.print(
        f"{result.received} new pages received, {result.skipped} already in the lot, "
        f"{result.unreadable} unreadable; {summary_line(view)}",
        soft_wrap=True,
    )


def _import_with_progress(the_lot, inputs, workers: int, console: Console):
    from scanner.importing import ImportProgress, import_files

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.1f} pages/s"),
        TextColumn("{task.fields[anomalies]} anomalies so far"),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("pages", total=None, rate=0.0, anomalies=0, last="")

        def update(p: ImportProgress) -> None:
            last = ""
            if p.last is not None:
                a = p.last
                last = (
                    "blank" if a.blank else ("no code" if a.copy_id is None else f"{a.copy_id} p{a.number}")
                )
                if a.rotation == 180:
                    last += " (upside down)"
            progress.update(
                task,
                completed=p.analysed,
                total=max(p.received, p.analysed) or None,
                rate=p.pages_per_second,
                anomalies=p.to_check,
                last=last,
            )

        return import_files(the_lot, inputs, workers=workers, on_update=update)


def scan_report(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for other tools."),
) -> None:
    """What the lot holds and what is left to resolve, one line per anomaly saying what to do."""
    from scanner.lot import Lot
    from scanner.report import build_view, render_text, report_json

    view = build_view(Lot.open(lot).state())
    if as_json:
        typer.echo(json.dumps(report_json(view), ensure_ascii=False))
        return
    render_text(view, Console(highlight=False), str(lot))


def scan_seal(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    centre: str | None = typer.Option(
        None, "--centre", help="The centre's UAI, if the import did not give it."
    ),
) -> None:
    """Seal the lot: refused while anything is left to resolve; writes manifest.json and identity.json.

    identity.json links copies to candidates: it is for the exam office only.
    """
    from scanner.lot import Lot
    from scanner.seal import SealRefused, seal

    try:
        manifest = seal(Lot.open(lot), _by(by), centre)
    except SealRefused as refused:
        console = Console(stderr=True, highlight=False)
        for line in refused.problems:
            console.print(f"  - {line}", soft_wrap=True)
        raise
    c = manifest.counts
    typer.echo(
        f"Lot sealed: {c.copies} copies ({c.blank} blank, {c.absent} absent), {c.pages} pages; "
        f"registered {c.registered}, present {c.present}. manifest {manifest.manifest_sha256[:16]}…"
    )


def scan_verify(lot: Path = typer.Argument(..., help=DIR_HELP)) -> None:
    """Check a sealed lot byte for byte: every image, identity.json, manifest.json. Names what differs."""
    from scanner.lot import Lot
    from scanner.seal import verify

    result = verify(Lot.open(lot))
    if result.ok:
        typer.echo(
            f"The sealed lot is intact: {result.checked_images} images, identity and manifest checked."
        )
        return
    for problem in result.problems:
        typer.echo(f"DIFFERS: {problem}")
    raise typer.Exit(1)


def scan_unseal(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    reason: str = typer.Option(..., "--reason", help="Why the sealed lot must change (kept in the record)."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Reopen a sealed lot (the old seal is kept beside); it must be sealed again before it is sent."""
    from scanner.lot import Lot
    from scanner.seal import unseal

    typer.echo(unseal(Lot.open(lot), _by(by), reason))


def _lot(lot: Path):
    from scanner.lot import Lot

    return Lot.open(lot)


@resolve_app.command("assign")
def resolve_assign(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    source: str = typer.Argument(..., help="The sheet, as the report names it (FILE#INDEX)."),
    copy: str = typer.Argument(..., help="The copy it belongs to."),
    page: int | None = typer.Option(None, "--page", help="Its page number (none: an annex of the copy)."),
    rotation: int | None = typer.Option(
        None, "--rotation", help="Degrees clockwise to turn it upright (default: as detected)."
    ),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Put a sheet in a copy; its corrector image is made then (page 1 masked)."""
    from scanner.resolve import assign

    typer.echo(assign(_lot(lot), source, copy, page, rotation, _by(by)))


@resolve_app.command("discard")
def resolve_discard(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    source: str = typer.Argument(..., help="The sheet or unreadable file, as the report names it."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the lot's record and the manifest)."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Set a sheet (or an unreadable file) aside for good, with the reason."""
    from scanner.resolve import discard

    typer.echo(discard(_lot(lot), source, reason, _by(by)))


@resolve_app.command("confirm-annex")
def resolve_confirm_annex(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    source: str = typer.Argument(..., help="The sheet without a code, as the report names it."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Confirm that a sheet without a code belongs to the copy it was attached to."""
    from scanner.resolve import confirm_annex

    typer.echo(confirm_annex(_lot(lot), source, _by(by)))


@resolve_app.command("label")
def resolve_label(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    copy: str = typer.Argument(..., help="The copy."),
    candidate: str = typer.Argument(..., help="The registration number on its label."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Record whose copy it is, read from the sheet (label unreadable, missing or wrong)."""
    from scanner.resolve import label

    typer.echo(label(_lot(lot), copy, candidate, _by(by)))


@resolve_app.command("join")
def resolve_join(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    copy: str = typer.Argument(..., help="The extra booklet (its own printed number)."),
    to: str | None = typer.Option(
        None, "--to", help="The copy it belongs to (default: the one the report proposes)."
    ),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """An extra booklet (no label, no name) is part of that copy: confirm the join, or join an orphan."""
    from scanner.resolve import join

    typer.echo(join(_lot(lot), copy, to, _by(by)))


@resolve_app.command("separate")
def resolve_separate(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    copy: str = typer.Argument(..., help="The booklet."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """That booklet is not an extra booklet of the copy before it: a copy on its own."""
    from scanner.resolve import separate

    typer.echo(separate(_lot(lot), copy, _by(by)))


def _mark(action: str):
    def command(
        lot: Path = typer.Argument(..., help=DIR_HELP),
        target: str = typer.Argument(..., help="A copy number or a candidate's registration number."),
        candidate: str | None = typer.Option(
            None, "--candidate", help="With a copy number: whose copy it is (when it has no label)."
        ),
        by: str | None = typer.Option(None, "--by", help=BY_HELP),
    ) -> None:
        from scanner.resolve import mark

        typer.echo(mark(_lot(lot), action, target, _by(by), candidate))

    return command


resolve_app.command(
    "mark-blank",
    help="Record a blank copy (mark 00). For a candidate: present, but handed in nothing to scan.",
)(_mark("mark-blank"))
resolve_app.command(
    "mark-absent",
    help="Record an ABSENT copy (mark AB). For a candidate: the roll was wrong, he was absent.",
)(_mark("mark-absent"))


@resolve_app.command("mark-present")
def resolve_mark_present(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    candidate: str = typer.Argument(..., help="The candidate's registration number."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """The roll says absent, but the candidate did sit the paper."""
    from scanner.resolve import mark

    typer.echo(mark(_lot(lot), "mark-present", candidate, _by(by)))


@resolve_app.command("mark-written")
def resolve_mark_written(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    copy: str = typer.Argument(..., help="The copy."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """The copy carries answers: neither blank nor ABSENT, whatever the scan read on its pages."""
    from scanner.resolve import mark

    typer.echo(mark(_lot(lot), "mark-written", copy, _by(by)))


@resolve_app.command("admit")
def resolve_admit(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    candidate: str = typer.Argument(..., help="The candidate's registration number."),
    reason: str = typer.Option(..., "--reason", help="Why he sat the paper here (kept in the record)."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """A candidate not on the roll sat the paper here."""
    from scanner.resolve import admit

    typer.echo(admit(_lot(lot), candidate, reason, _by(by)))


@resolve_app.command("accept-incomplete")
def resolve_accept_incomplete(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    copy: str = typer.Argument(..., help="The copy."),
    reason: str = typer.Option(..., "--reason", help="Why the missing sheet is not there."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Accept a copy with a page missing: the sheet really is not there."""
    from scanner.resolve import accept_incomplete

    typer.echo(accept_incomplete(_lot(lot), copy, reason, _by(by)))


@resolve_app.command("rescan")
def resolve_rescan(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    copy: str = typer.Argument(..., help="The copy to scan again."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Set a copy's pages aside (kept in the record) so that a new scan of it replaces them."""
    from scanner.resolve import rescan

    typer.echo(rescan(_lot(lot), copy, _by(by)))


@resolve_app.command("history")
def resolve_history(lot: Path = typer.Argument(..., help=DIR_HELP)) -> None:
    """Every decision taken on the lot, oldest first: id, when, who, what (undone ones marked)."""
    from scanner.resolve import decision_details, live_decisions

    state = _lot(lot).state()
    live = {id(d) for d in live_decisions(state)}
    for decision in state.decisions:
        details = decision_details(decision)
        flag = "" if id(decision) in live or decision.action == "undo" else "  (undone)"
        ident = decision.fields.get("id", "-")
        typer.echo(f"{ident:8}  {decision.at}  {decision.by:12}  {decision.action} {details}{flag}")


@resolve_app.command("undo")
def resolve_undo(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    decision: str = typer.Argument(..., help="The decision's id, as `scan resolve history` shows it."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the record with the decision undone)."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Cancel a decision taken by mistake; both stay in the lot's record."""
    from scanner.resolve import undo

    typer.echo(undo(_lot(lot), decision, reason, _by(by)))
