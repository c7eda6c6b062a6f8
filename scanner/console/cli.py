"""`massicot station`: the console for the centre's evening (mounted by massicot/cli.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def default_home() -> Path:
    return Path.home() / "massicot-station"


def station(
    home: Path = typer.Option(
        None, "--home", help="The station's folder: rolls and lots (default ~/massicot-station)."
    ),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open the browser (scripts, tests)."),
    server: str | None = typer.Option(
        None, "--server", help="The correction server, e.g. https://copies.example.fr"
    ),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        help="File holding the centre token (default: MASSICOT_TOKEN or ~/.config/massicot/token).",
    ),
    stall_seconds: float | None = typer.Option(
        None, "--stall-seconds", min=1, help="Seconds without any sign of the scanner before it is stopped."
    ),
    settle: float = typer.Option(
        1.0, "--settle", min=0.1, help="Watched folder: seconds a file must stay unchanged."
    ),
    retry_first: float = typer.Option(5.0, "--retry-first", min=0.1, help="First wait before sending again."),
    send_patience: float = typer.Option(
        20.0, "--send-patience", min=1, help="Seconds without an answer per try."
    ),
    test_faults: str | None = typer.Option(None, "--test-faults", hidden=True, help="SANE test device only."),
) -> None:
    """Open the station console in the browser: start, scan, check, room report, seal, send.

    Everything it does is also a `massicot scan ...` / `massicot push` command; it calls the same
    services. Killed or rebooted, start it again: unfinished lots are offered first, queued lots
    are sent as soon as the server answers.
    """
    from scanner.console.serve import run_station

    token = None
    if server:
        from scanner.push import load_token

        token = load_token(token_file)
    run_station(
        home or default_home(),
        port=port,
        open_browser=not no_browser,
        server=server,
        token=token,
        stall_seconds=stall_seconds,
        test_faults=test_faults,
        settle=settle,
        retry_first=retry_first,
        send_patience=send_patience,
    )
