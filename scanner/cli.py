"""`massicot scan ...` and `massicot push`: the scan station's commands."""

from __future__ import annotations

from pathlib import Path

import typer

scan_app = typer.Typer(
    help="Scan copies, check them against the roll, resolve anomalies, seal the lot.",
    no_args_is_help=True,
)


def register_push_command(app: typer.Typer) -> None:
    @app.command("push")
    def push(
        lot: Path = typer.Argument(..., help="The sealed lot folder."),
        server: str = typer.Option(
            ..., "--server", help="The correction server, e.g. https://copies.example.fr"
        ),
        token_file: Path | None = typer.Option(
            None,
            "--token-file",
            help="File holding the centre token (default: MASSICOT_TOKEN or ~/.config/massicot/token).",
        ),
        spool: bool = typer.Option(False, "--spool", help="Keep trying until the server has the whole lot."),
        give_up_after: float | None = typer.Option(
            None,
            "--give-up-after",
            help="Seconds without any answer before giving up (default 120; 24 h with --spool).",
        ),
        parallel: int = typer.Option(4, "--parallel", min=1, max=32, help="Images sent at the same time."),
        chunk_kib: int = typer.Option(
            1024, "--chunk-kib", min=16, help="Chunk size in KiB (smaller on a bad line)."
        ),
    ) -> None:
        """Send a sealed lot to the correction server; resumes where it stopped, never sends a page twice."""
        from datetime import datetime

        from scanner.push import PushOptions, load_token, push_lot

        def say(text: str) -> None:
            typer.echo(f"{datetime.now():%H:%M:%S} {text}", err=True)

        options = PushOptions(
            server=server,
            token=load_token(token_file),
            spool=spool,
            give_up_after=give_up_after,
            parallel=parallel,
            chunk_bytes=chunk_kib * 1024,
        )
        report = push_lot(lot, options, say)
        typer.echo(
            f"{report.state}: {report.copies} copies, {report.pages} pages; {report.images_sent} images sent "
            f"({report.bytes_sent / 1e6:.1f} MB), {report.images_already_there} already on the server, "
            f"{report.retries} retries, {report.seconds:.1f} s"
        )


def _register_lot_commands() -> None:
    # import, report, seal, verify, unseal and resolve live in their own module (scanner/lot_cli.py)
    from scanner.lot_cli import register_lot_commands

    register_lot_commands(scan_app)


_register_lot_commands()


def _register_station_commands() -> None:
    # devices, sane, watch and review live in their own module (scanner/station_cli.py)
    from scanner.station_cli import register_station_commands

    register_station_commands(scan_app)


_register_station_commands()


def _register_rescan_commands() -> None:
    # the exam office's rescan requests (scanner/rescan_cli.py)
    from scanner.rescan_cli import register_rescan_commands

    register_rescan_commands(scan_app)


_register_rescan_commands()
def _register_room_command() -> None:
    # room-report lives in its own module (scanner/room_cli.py)
    from scanner.room_cli import register_room_command

    register_room_command(scan_app)


_register_room_command()


# The sample scans come from the test kit, imported only when the command runs.
@scan_app.command("simulate")
def simulate(
    paper: str = typer.Option(..., "--paper", help="Paper code, e.g. U3."),
    roll: Path = typer.Option(..., "--roll", help="Roll CSV: candidate,name,present."),
    out: Path = typer.Option(..., "--out", help="Folder for the scans and truth.json."),
    dpi: int = typer.Option(300, "--dpi", help="Scan resolution: 200 or 300."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same scans."),
    defects: str = typer.Option(
        "none",
        "--defects",
        help="all, none, or a comma list such as upside_down=2,skew=5,torn_label (names below).",
    ),
    formats: list[str] = typer.Option(
        ["jpeg"], "--format", help="jpeg (a folder of files), pdf or tiff; repeat for several."
    ),
    pages: int = typer.Option(4, "--pages", help="Pages per booklet."),
) -> None:
    """Print booklets and labels for the roll, fill them in and scan them as a centre would.

    Defects: upside_down, skew (max degrees), blank_verso, missing_page,
    duplicate_page, foreign_copy, annex, torn_label, no_label, blank_copy,
    missing_copy, duplicate_copy, header_ink.
    For absent candidates of the roll the centre files a booklet with their label, marked ABSENT.
    truth.json beside the scans says what was done to every page and copy.
    """
    import time

    from massicot_core.errors import UserError
    from massicot_core.roll import read_roll
    from paper.printing import check_counts, check_paper_format
    from scanner.sample_kit import require_test_kit

    require_test_kit("massicot scan simulate")
    from testkit.samples.defects import DefectPlan
    from testkit.samples.session import generate_session

    check_paper_format(paper)
    check_counts(1, pages)
    lines = read_roll(roll)
    plan = DefectPlan.parse(defects)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file: give a folder for the scans")
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} is not empty: give a new or empty folder, so no earlier scan is mixed in")
    start = time.perf_counter()
    try:
        truth = generate_session(
            out, paper, lines, pages=pages, dpi=dpi, seed=seed, defects=plan, formats=tuple(formats)
        )
    except OSError as exc:
        raise UserError(f"cannot write the scans in {out}: {exc.strerror}") from None
    seconds = time.perf_counter() - start
    typer.echo(
        f"{len(truth.pages)} pages of {len(truth.copies)} copies scanned at {dpi} dpi into {out} "
        f"({', '.join(truth.files.values())}) in {seconds:.1f} s; the truth is in {out / 'truth.json'}"
    )
