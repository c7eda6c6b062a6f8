"""`massicot scan devices / sane / watch / review`: the station's commands at the scanner.

Mounted on `scan_app` by scanner/cli.py. Thin: the work is in scanner/sane_device.py,
station.py, hotfolder.py, live.py and review_web.py.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from massicot_core.errors import UserError

PAPER_HELP = "Paper code, as printed on the booklets, e.g. U3."
ROLL_HELP = "The roll (CSV: candidate,name,present)."
LOT_HELP = (
    "The lot folder (created if needed); the same folder `scan import`, `scan report` and `scan seal` use."
)
SPOOL_DIR = "spool"  # in the lot folder: pages scanimage has written, until each is received


def register_station_commands(scan_app: typer.Typer) -> None:
    scan_app.command("devices")(scan_devices)
    scan_app.command("sane")(scan_sane)
    scan_app.command("watch")(scan_watch)
    scan_app.command("review")(scan_review)


def scan_devices() -> None:
    """List the scanners SANE sees, with the profile the station would use for each."""
    from scanner.sane_device import list_devices, profile_for

    devices = list_devices()
    console = Console(highlight=False)
    if not devices:
        raise UserError(
            "no scanner found. Check that the scanner is switched on and plugged in, and that this user "
            "may use it (hardware/README.md: the 'scanner' group); `scanimage -L` must list it"
        )
    table = Table(title="Scanners")
    for column in ("Device (--device)", "Vendor", "Model", "Kind", "Profile (--profile)"):
        table.add_column(column)
    for device in devices:
        table.add_row(device.name, device.vendor, device.model, device.kind, profile_for(device).name)
    console.print(table)


def scan_sane(
    paper: str = typer.Option(..., "--paper", help=PAPER_HELP),
    roll: Path = typer.Option(..., "--roll", help=ROLL_HELP),
    lot: Path = typer.Option(..., "--lot", help=LOT_HELP),
    device: str | None = typer.Option(None, "--device", help="SANE device name (see `scan devices`)."),
    profile: str | None = typer.Option(None, "--profile", help="Scanner profile (hardware/profiles)."),
    duplex: bool = typer.Option(False, "--duplex", help="Scan both sides of each sheet."),
    dpi: int | None = typer.Option(
        None, "--dpi", min=75, max=1200, help="Resolution (default: the profile's)."
    ),
    centre: str | None = typer.Option(None, "--centre", help="The centre's UAI code, e.g. 0130040Y."),
    pages: int | None = typer.Option(None, "--pages", min=1, max=999, help="Pages per booklet."),
    stall_seconds: float | None = typer.Option(
        None,
        "--stall-seconds",
        min=1,
        help="Seconds without any sign of the scanner before the station stops it (default: the profile's).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No live display: a summary line at the end."),
    test_faults: str | None = typer.Option(
        None,
        "--test-faults",
        hidden=True,
        help="SANE test device only: faults to inject, e.g. jammed@3,cover_open@0,slow@2.",
    ),
) -> None:
    """Scan the pile with a SANE scanner: each page goes into the lot as soon as it is scanned.

    On a jam or an open cover the station keeps every page, says what to do and goes on when you
    press Enter. A scanner that stops answering (no page, no status) is stopped after --stall-seconds;
    the pages received are kept. Stopped by a crash or a power cut: run the same command again,
    nothing is lost and no page is added twice.
    """
    from scanner.live import LiveDisplay
    from scanner.sane_device import (
        SaneFeeder,
        TestBackendFault,
        choose_device,
        device_options,
        load_profile,
        profile_for,
        settings_for,
        spool_is_writable,
    )
    from scanner.station import open_lot, scan_session

    the_lot = open_lot(lot, paper, roll, centre, pages)
    spool = lot / SPOOL_DIR
    spool_is_writable(spool)
    chosen = choose_device(device)
    the_profile = load_profile(profile) if profile else profile_for(chosen)
    settings = settings_for(
        chosen, the_profile, device_options(chosen), duplex=duplex, dpi=dpi, stall_seconds=stall_seconds
    )
    faults = TestBackendFault.parse_plan(test_faults) if test_faults else None
    run_id = f"sane-{datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
    feeder = SaneFeeder(settings, spool, run_id, faults)
    ui = LiveDisplay(Console(highlight=False), lot_dir=str(lot), quiet=quiet)
    scan_session(the_lot, feeder, ui)


def scan_watch(
    folder: Path = typer.Argument(..., help="The folder the scanner's software exports files to."),
    paper: str = typer.Option(..., "--paper", help=PAPER_HELP),
    roll: Path = typer.Option(..., "--roll", help=ROLL_HELP),
    lot: Path = typer.Option(..., "--lot", help=LOT_HELP),
    centre: str | None = typer.Option(None, "--centre", help="The centre's UAI code, e.g. 0130040Y."),
    pages: int | None = typer.Option(None, "--pages", min=1, max=999, help="Pages per booklet."),
    settle: float = typer.Option(
        2.0, "--settle", min=0.1, help="Seconds a file must stay unchanged before it is taken."
    ),
    until_idle: float | None = typer.Option(
        None,
        "--until-idle",
        min=0.5,
        help="Stop after this many seconds without a new file (default: run until Ctrl-C).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No live display: a summary line at the end."),
) -> None:
    """Watch the folder a scanner's software exports to; take each file once it is completely written.

    Taken files are moved into FOLDER/.massicot-done/ so a restart does not take them again;
    temporary files (*.tmp, ~*, .*) are left alone. Stop with Ctrl-C: everything taken is kept.
    """
    from scanner.hotfolder import HotFolder
    from scanner.live import LiveDisplay
    from scanner.station import open_lot, watch_session

    hot = HotFolder(folder, settle=settle)
    if folder.resolve() == lot.resolve() or folder.resolve() in lot.resolve().parents:
        raise UserError("the lot folder must not be inside the watched folder: choose another --lot")
    the_lot = open_lot(lot, paper, roll, centre, pages)
    ui = LiveDisplay(Console(highlight=False), lot_dir=str(lot), quiet=quiet)
    watch_session(the_lot, hot, ui, until_idle=until_idle, clock=time.monotonic)


def scan_review(
    lot: Path = typer.Argument(..., help=LOT_HELP),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    by: str | None = typer.Option(None, "--by", help="Who decides (recorded with each decision)."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open the page in the browser."),
) -> None:
    """Review the lot's anomalies in the browser, with the page images, and resolve them.

    The page is served on 127.0.0.1 only; the decisions are the same as `massicot scan resolve`.
    """
    from scanner.lot import Lot
    from scanner.review_web import serve_review

    serve_review(Lot.open(lot), port=port, by=by, open_browser=open_browser)
