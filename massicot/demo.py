"""`massicot demo`: the main job on the embedded default (SQLite + a local folder)."""

from __future__ import annotations

from pathlib import Path

import typer


def register_demo_command(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        directory: Path = typer.Option(Path("demo"), "--dir", help="Folder for the demo session."),
    ) -> None:
        """Build a sample session in a local folder and run it as far as Massicot goes today."""
        from massicot.demo_run import run_demo

        run_demo(directory)
