"""`massicot scan simulate`: a room's copies filled in and scanned, for the demo and for trials."""

from __future__ import annotations

from pathlib import Path

import typer


def register_simulate_command(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate(
        paper: str = typer.Option(..., "--paper", help="Paper code, e.g. U3."),
        roll: Path = typer.Option(..., "--roll", help="Roll CSV: candidate,name,present."),
        out: Path = typer.Option(..., "--out", help="Folder for the scans and truth.json."),
        dpi: int = typer.Option(300, "--dpi", help="Scan resolution: 200 or 300."),
        seed: int = typer.Option(0, "--seed", help="Same seed, same scans."),
        defects: str = typer.Option(
            "none",
            "--defects",
            help="all, none, or a comma list such as upside_down=2,skew=5,torn_label (names below).",
        ),
        formats: list[str] = typer.Option(
            ["jpeg"], "--format", help="jpeg (a folder of files), pdf or tiff; repeat for several."
        ),
        pages: int = typer.Option(4, "--pages", help="Pages per booklet."),
    ) -> None:
        """Print booklets and labels for the roll, fill them in and scan them as a centre would.

        Defects: upside_down, skew (max degrees), blank_verso, missing_page,
        duplicate_page, foreign_copy, annex, torn_label, no_label, blank_copy,
        missing_copy, duplicate_copy, header_ink.
        For absent candidates of the roll the centre files a booklet with their label, marked ABSENT.
        truth.json beside the scans says what was done to every page and copy.
        """
        import time

        from massicot_core.errors import UserError
        from massicot_core.roll import read_roll
        from paper.printing import check_counts, check_paper_format
        from scanner.samples import DefectPlan, generate_session

        check_paper_format(paper)
        check_counts(1, pages)
        lines = read_roll(roll)
        plan = DefectPlan.parse(defects)
        if out.exists() and not out.is_dir():
            raise UserError(f"{out} is a file: give a folder for the scans")
        if out.exists() and any(out.iterdir()):
            raise UserError(f"{out} is not empty: give a new or empty folder, so no earlier scan is mixed in")
        start = time.perf_counter()
        try:
            truth = generate_session(
                out, paper, lines, pages=pages, dpi=dpi, seed=seed, defects=plan, formats=tuple(formats)
            )
        except OSError as exc:
            raise UserError(f"cannot write the scans in {out}: {exc.strerror}") from None
        seconds = time.perf_counter() - start
        typer.echo(
            f"{len(truth.pages)} pages of {len(truth.copies)} copies scanned at {dpi} dpi into {out} "
            f"({', '.join(truth.files.values())}) in {seconds:.1f} s; the truth is in {out / 'truth.json'}"
        )
