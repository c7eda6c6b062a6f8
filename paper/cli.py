"""`massicot template ...` and `massicot print ...`.

The print commands check the paper with a lookup the command line hands in
(`build_print_app(known_paper)`): the copy model itself knows no database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer

from paper.copy_model import DEFAULT_MODEL, load_model

template_app = typer.Typer(help="The printable copy model (booklet and labels).", no_args_is_help=True)


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


def _new_ids(count: int) -> list[str]:
    """`count` distinct copy-id-shaped numbers (booklets, insert sheets)."""
    from massicot_core.identifiers import new_copy_id

    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < count:
        new = new_copy_id()
        if new not in seen:  # 32^8 ids: a repeat is near impossible, but never print one twice
            seen.add(new)
            ids.append(new)
    return ids


def build_print_app(known_paper: Callable[[str], bool] | None = None) -> typer.Typer:
    """`massicot print`: booklets, labels and signing sheets of a paper `known_paper` knows
    (any well-formed code when None)."""
    print_app = typer.Typer(
        help="Print booklets, anonymity labels and signing sheets as PDF.", no_args_is_help=True
    )

    @print_app.command("booklets")
    def print_booklets(
        paper: str = typer.Option(..., "--paper", help="Paper code, e.g. U3."),
        count: int = typer.Option(..., "--count", help="How many booklets (each gets its own copy id)."),
        pages: int = typer.Option(4, "--pages", help="Pages per booklet."),
        out: Path = typer.Option(..., "--out", help="PDF file to write."),
        model: str = typer.Option(DEFAULT_MODEL, help="Copy model name."),
    ) -> None:
        """Blank booklets with a page code in every corner, ready to print double-sided."""
        from paper.printing import booklet_pdf, check_counts, check_paper

        check_paper(paper, known_paper)
        check_counts(count, pages)
        copy_ids = _new_ids(count)
        booklet_pdf(paper, copy_ids, pages, out, model=load_model(model))
        typer.echo(f"{count} booklets of {pages} pages for paper {paper} written to {out}")

    @print_app.command("inserts")
    def print_inserts(
        paper: str = typer.Option(..., "--paper", help="Paper code, e.g. U3."),
        count: int = typer.Option(..., "--count", help="How many insert sheets (each gets its own id)."),
        kind: str = typer.Option(
            "graph",
            "--kind",
            help="graph (graph paper), lined (blank answer sheet), "
            "corner (answer sheet with an anonymity corner).",
        ),
        out: Path = typer.Option(..., "--out", help="PDF file to write."),
        model: str = typer.Option(DEFAULT_MODEL, help="Copy model name."),
    ) -> None:
        """Insert sheets (intercalaires) coded as inserts, no identity header: in a copy, they join it."""
        from paper.inserts import check_insert_kind, inserts_pdf
        from paper.printing import check_paper

        check_paper(paper, known_paper)
        check_insert_kind(kind)
        ids = _new_ids(count)
        inserts_pdf(paper, [(i, kind) for i in ids], out, model=load_model(model))
        typer.echo(f"{count} insert sheets ({kind}) for paper {paper} written to {out}")

    def print_for_roll(paper: str, roll: Path, out: Path, model: str, draw: Callable[..., None]) -> int:
        """Check the paper, read the roll and draw one document of it; how many lines it has."""
        from massicot_core.roll import read_roll
        from paper.printing import check_paper

        check_paper(paper, known_paper)
        lines = read_roll(roll)
        draw(paper, lines, out, model=load_model(model))
        return len(lines)

    @print_app.command("labels")
    def print_labels(
        paper: str = typer.Option(..., "--paper", help="Paper code, e.g. U3."),
        roll: Path = typer.Option(..., "--roll", help="Roll CSV: candidate,name,present."),
        out: Path = typer.Option(..., "--out", help="PDF file to write."),
        model: str = typer.Option(DEFAULT_MODEL, help="Copy model name."),
    ) -> None:
        """One anonymity label per candidate of the roll, in roll order."""
        from paper.printing import labels_pdf

        count = print_for_roll(paper, roll, out, model, labels_pdf)
        typer.echo(f"{count} labels for paper {paper} written to {out}")

    @print_app.command("roll")
    def print_roll(
        paper: str = typer.Option(..., "--paper", help="Paper code, e.g. U3."),
        roll: Path = typer.Option(..., "--roll", help="Roll CSV: candidate,name,present."),
        out: Path = typer.Option(..., "--out", help="PDF file to write."),
        model: str = typer.Option(DEFAULT_MODEL, help="Copy model name."),
    ) -> None:
        """The signing sheet (émargement) of the room."""
        from paper.printing import roll_pdf

        count = print_for_roll(paper, roll, out, model, roll_pdf)
        typer.echo(f"Signing sheet for {count} candidates of paper {paper} written to {out}")

    return print_app
