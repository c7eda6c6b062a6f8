"""`massicot demo`: the main job on the embedded default (SQLite + a local folder)."""

from __future__ import annotations

from pathlib import Path

import typer


def register_demo_command(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        directory: Path = typer.Option(
            Path("demo"), "--dir", help="Folder for the demo (made anew at each run)."
        ),
        serve: bool = typer.Option(
            True, "--serve/--no-serve", help="Keep the server running at the end for you to log in."
        ),
        port: int | None = typer.Option(None, "--port", help="Server port (default: a free one)."),
    ) -> None:
        """Run a whole sample session: print, scan with mishaps, seal, push, dispatch, mark."""
        from massicot.demo_run import run_demo

        run_demo(directory, serve=serve, port=port)
