"""`massicot template ...` and `massicot print ...`."""

from __future__ import annotations

import json

import typer

from templates.copy_model import DEFAULT_MODEL, load_model

template_app = typer.Typer(help="The printable copy model (booklet and labels).", no_args_is_help=True)
print_app = typer.Typer(
    help="Print booklets, anonymity labels and signing sheets as PDF.", no_args_is_help=True
)


@template_app.command("show")
def template_show(
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for other tools."),
    model: str = typer.Option(DEFAULT_MODEL, help="Copy model name."),
) -> None:
    """Show the zones of the copy model, in mm from the top-left corner of an upright page."""
    description = load_model(model).as_json()
    if as_json:
        typer.echo(json.dumps(description))
        return
    typer.echo(f"Copy model {description['name']} — page {description['page_mm']} mm")
    for zone, box in description["zones"].items():
        typer.echo(f"  {zone:20} {box}")
    typer.echo(f"  label sheet          {description['label_sheet']}")
