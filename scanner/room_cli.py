"""`massicot scan room-report DIR`: put the room report and the signed signing sheet into the lot.

Thin: the work is scanner/room_report.py, which the station console's form calls too.
"""

from __future__ import annotations

from pathlib import Path

import typer

from massicot_core.errors import UserError


def register_room_command(scan_app: typer.Typer) -> None:
    scan_app.command("room-report")(scan_room_report)


def _sheet(kind: str, path: Path | None):
    from scanner.room_report import Sheet

    if path is None:
        return None
    try:
        return Sheet(kind, path.read_bytes(), path.name)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


def scan_room_report(
    lot: Path = typer.Argument(..., help="The lot folder."),
    room: str = typer.Option("", "--room", help="The room, e.g. 'Salle B12'."),
    registered: int | None = typer.Option(None, "--registered", min=0, help="Candidates registered."),
    present: int | None = typer.Option(None, "--present", min=0, help="Candidates present."),
    absent: list[str] = typer.Option([], "--absent", help="An absent candidate's name (repeat)."),
    late: list[str] = typer.Option([], "--late", help="A late arrival admitted (repeat)."),
    left: list[str] = typer.Option(
        [], "--left", help="A candidate who left for good, with the time (repeat)."
    ),
    incidents: str = typer.Option("", "--incidents", help="Incidents, in free text."),
    scan: Path | None = typer.Option(None, "--scan", help="The signed room report, scanned (PDF or image)."),
    signing_sheet: Path | None = typer.Option(
        None, "--signing-sheet", help="The signed signing sheet, scanned (PDF or image)."
    ),
    by: str | None = typer.Option(None, "--by", help="Who enters it. Default: the login name."),
) -> None:
    """Record the procès-verbal de salle (typed, or scanned) and the signed signing sheet in the lot.

    Both are sealed into the lot (their hashes in the manifest) and pushed with it; on the server
    only the exam office sees them. Running it again replaces the typed report; a sheet already
    scanned stays unless a new one is given.
    """
    from scanner import room_report
    from scanner.lot import Lot
    from scanner.resolve import default_actor

    sheets = [
        s for s in (_sheet("room_report_scan", scan), _sheet("signing_sheet", signing_sheet)) if s is not None
    ]
    said = room_report.record(
        Lot.open(lot),
        by=by or default_actor(),
        room=room,
        registered=registered,
        present=present,
        absent=absent,
        late=late,
        left=left,
        incidents=incidents,
        sheets=sheets,
    )
    typer.echo(said)
