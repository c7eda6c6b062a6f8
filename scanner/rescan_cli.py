"""`massicot scan rescan-requests` and `massicot scan rescan`: the exam office's rescan loop."""

from __future__ import annotations

from pathlib import Path

import typer

from scanner.lot_cli import BY_HELP, DIR_HELP, _by


def register_rescan_commands(scan_app: typer.Typer) -> None:
    scan_app.command("rescan-requests")(scan_rescan_requests)
    scan_app.command("rescan")(scan_rescan)


def scan_rescan_requests(
    server: str = typer.Option(..., "--server", help="The correction server, e.g. https://copies.example.fr"),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        help="File holding the centre token (default: MASSICOT_TOKEN or ~/.config/massicot/token).",
    ),
    lot: Path | None = typer.Option(None, "--lot", help="Only the requests for this lot folder."),
) -> None:
    """List the pages the exam office asked this centre to scan again (copy, page, why)."""
    from scanner.lot import Lot
    from scanner.push import load_token
    from scanner.rescans import fetch_requests, requests_for_lot

    requests = fetch_requests(server, load_token(token_file))
    if lot is not None:
        requests = requests_for_lot(requests, Lot.open(lot))
    if not requests:
        typer.echo("no rescan asked" + (f" for the lot {lot}" if lot else ""))
        return
    for r in requests:
        typer.echo(
            f"{r.id:6}  {r.paper:6}  copy {r.copy}  page {r.page}  asked {r.requested_at[:16]}  {r.reason}"
        )
    typer.echo(
        f"{len(requests)} page(s) to scan again: find each sheet, scan it, then "
        "`massicot scan rescan LOT --copy COPY --page N FILE` and push the lot again"
    )


def scan_rescan(
    lot: Path = typer.Argument(..., help=DIR_HELP),
    files: list[Path] = typer.Argument(..., help="The new scan(s) of the sheet(s)."),
    copy: list[str] = typer.Option(
        ..., "--copy", help="The copy of the page (repeat with --page for several)."
    ),
    page: list[int] = typer.Option(..., "--page", help="The page number to replace."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Replace pages of a lot by their new scan (old pages kept in the record) and seal it again."""
    from massicot_core.errors import UserError
    from scanner.lot import Lot
    from scanner.rescans import rescan_into_lot

    if len(copy) != len(page):
        raise UserError("give one --page for each --copy")
    from scanner.seal import SealRefused

    try:
        said, _seal = rescan_into_lot(Lot.open(lot), list(zip(copy, page, strict=True)), files, _by(by))
    except SealRefused as refused:
        for line in refused.problems:
            typer.echo(f"  - {line}", err=True)
        raise
    typer.echo(said)
    typer.echo("push the lot again (`massicot push LOT --server ...`): only these pages are replaced")
