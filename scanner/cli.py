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


def _register_simulate_command() -> None:
    # sample scans for the demo and trials live beside their generator (scanner/samples_cli.py)
    from scanner.samples_cli import register_simulate_command

    register_simulate_command(scan_app)


_register_simulate_command()
