"""`massicot scan ...` and `massicot push`: the scan station's commands."""

from __future__ import annotations

import typer

scan_app = typer.Typer(
    help="Scan copies, check them against the roll, resolve anomalies, seal the lot.",
    no_args_is_help=True,
)


def register_push_command(app: typer.Typer) -> None:
    """`massicot push` is added here once the push client exists."""
