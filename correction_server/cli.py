"""`massicot office ...`, `massicot audit ...` and `massicot serve`: the server's commands.

Each area keeps its commands in its own `cli.py` (a Typer app whose commands are merged into
`massicot office`); they share correction_server.cli_support. Commands load the server's
modules only when they run, so `massicot --help` stays quick.
"""

from __future__ import annotations

from pathlib import Path

import typer

from correction_server.audit.cli import app as audit_app
from correction_server.auth import cli as auth_cli
from correction_server.backup import cli as backup_cli
from correction_server.candidate_space import cli as candidate_cli
from correction_server.closing import cli as closing_cli
from correction_server.closing import jury_cli
from correction_server.dispatch import cli as dispatch_cli
from correction_server.intake import cli as intake_cli
from correction_server.marking import cli as marking_cli
from correction_server.office import cli as office_cli
from correction_server.office import rules_cli as office_rules_cli
from correction_server.pages import cli as pages_cli

office_app = typer.Typer(help="The exam office: imports, dispatch, exports.", no_args_is_help=True)
# In the order of a session: prepare, receive, dispatch, mark, close.
for area in (
    auth_cli,
    office_cli,
    office_rules_cli,
    dispatch_cli,
    marking_cli,
    pages_cli,
    intake_cli,
    closing_cli,
    candidate_cli,
    jury_cli,
    backup_cli,
):
    office_app.add_typer(area.app)

__all__ = ["audit_app", "office_app", "register_server_commands"]


def register_server_commands(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        db: str | None = typer.Option(
            None, "--db", help="Database URL, e.g. postgresql+psycopg://host/massicot."
        ),
        store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port"),
        workers: int | None = typer.Option(
            None,
            "--workers",
            help="Server processes. Default: one per core on PostgreSQL, one on SQLite (a single writer).",
        ),
        keep_alive: int = typer.Option(
            75,
            "--keep-alive",
            help="Seconds an idle browser connection stays open (a corrector pauses between saves).",
        ),
        access_log: bool = typer.Option(False, "--access-log/--no-access-log"),
    ) -> None:
        """Start the correction server (upgrades the database first)."""
        import os

        import uvicorn

        from correction_server.migrate import upgrade_database
        from correction_server.settings import Settings

        settings = Settings.from_env(database_url=db, store_path=store)
        if workers is None:
            # bench/marking_load.py on 2 cores: 2, 3 and 4 processes within the machine's noise
            # (p95 40-280 ms, all set by what else runs); one per core keeps memory small.
            workers = (os.cpu_count() or 1) if settings.database_url.startswith("postgresql") else 1
        upgrade_database(settings.database_url)
        settings.store_path.mkdir(parents=True, exist_ok=True)
        # Worker processes build their app from the environment, so pass the choices on.
        os.environ["MASSICOT_DB"] = settings.database_url
        os.environ["MASSICOT_STORE"] = str(settings.store_path.resolve())
        os.environ.setdefault("MASSICOT_SECRET_KEY", settings.secret_key)
        typer.echo(f"Massicot server on http://{host}:{port} (API description: /docs)", err=True)
        uvicorn.run(
            "correction_server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level="warning",
            timeout_keep_alive=keep_alive,
            # X-Forwarded-* are believed only from MASSICOT_TRUSTED_PROXIES (web/guard.py), never
            # from uvicorn's default of 127.0.0.1: anyone on the host could choose his address.
            proxy_headers=False,
            loop="uvloop",
            http="httptools",
        )

    @app.command("worker")
    def worker(
        db: str | None = typer.Option(
            None, "--db", help="Database URL (PostgreSQL), e.g. postgresql+psycopg://host/massicot."
        ),
        store: Path | None = typer.Option(
            None, "--store", help="Folder of the page images (or their display images)."
        ),
        concurrency: int = typer.Option(2, "--concurrency", min=1, help="Jobs this worker runs at once."),
        nice: int = typer.Option(
            10,
            "--nice",
            min=0,
            max=19,
            help="Lower priority (0-19) so that a server on the same host answers first.",
        ),
    ) -> None:
        """Run the queued background jobs (display images, the office's long actions) until stopped."""
        from correction_server.jobs.queue import conninfo
        from correction_server.jobs.worker import run_worker
        from correction_server.migrate import upgrade_database
        from correction_server.settings import Settings

        settings = Settings.from_env(database_url=db, store_path=store)
        conninfo(settings.database_url)  # PostgreSQL only: said in plain words otherwise
        upgrade_database(settings.database_url)
        settings.store_path.mkdir(parents=True, exist_ok=True)
        typer.echo(f"Massicot worker: {concurrency} job(s) at once; Ctrl-C stops it.", err=True)
        run_worker(settings, concurrency, nice=nice)
