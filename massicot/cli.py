"""The single `massicot` command; each part of the product mounts its own sub-commands."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from correction_server.cli import audit_app, office_app, register_server_commands
from correction_server.cli_support import configured_paper_known
from correction_server.i18n import register_words
from massicot.demo import register_demo_command
from massicot_core.errors import UserError
from paper.cli import build_print_app, template_app
from scanner.cli import register_push_command, scan_app
from scanner.console.cli import station

app = typer.Typer(
    name="massicot",
    help=(
        "Massicot: scan exam copies in the centre, mask the candidate's identity, "
        "and mark them online.\n\n"
        "A centre's evening: `massicot station` (the console in the browser), or by hand "
        "`massicot scan import` (or `scan sane` / `scan watch`), `massicot scan report`, "
        "`massicot scan seal`, `massicot push`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(template_app, name="template")
# The copy model prints; the server says which papers exist (MASSICOT_DB).
app.add_typer(build_print_app(configured_paper_known), name="print")
app.add_typer(scan_app, name="scan")
app.add_typer(office_app, name="office")
app.add_typer(audit_app, name="audit")
register_push_command(app)
register_server_commands(app)
register_demo_command(app)
app.command("station")(station)

_err = Console(stderr=True, highlight=False)


def main() -> None:
    # Refusals of the server's services are sentences of the words catalogue.
    register_words()
    try:
        app()
    except UserError as exc:
        # The message is plain text: a command such as `pip install -e .[dev]` must show its brackets.
        _err.print(f"[bold red]Error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err.print("Stopped. Everything received so far is kept; run the same command to resume.")
        sys.exit(130)
    except Exception:  # noqa: BLE001 - the last guard: people get plain words, the log gets the detail
        log = _write_crash_log()
        _err.print(
            "[bold red]Error:[/] Massicot met an unexpected problem and stopped; what was already "
            f"saved is kept. The details are in {log}: send that file to your support.",
            soft_wrap=True,
        )
        sys.exit(70)


def _write_crash_log() -> str:
    import tempfile
    import traceback
    from datetime import UTC, datetime
    from pathlib import Path

    folder = Path(tempfile.gettempdir()) / "massicot-crashes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.log"
    path.write_text(" ".join(sys.argv) + "\n\n" + traceback.format_exc(), encoding="utf-8")
    return str(path)
