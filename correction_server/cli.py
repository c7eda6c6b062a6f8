"""`massicot office ...`, `massicot audit ...` and `massicot serve`."""

from __future__ import annotations

import typer

office_app = typer.Typer(help="The exam office: imports, dispatch, exports.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


def register_server_commands(app: typer.Typer) -> None:
    """`massicot serve` is added here once the server exists."""
