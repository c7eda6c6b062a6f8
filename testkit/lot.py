"""Builders for the lot tests: page analyses, rolls, drawn scan files, the CLI."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from massicot_core.identifiers import new_copy_id
from paper.copy_model import load_model
from scanner.grouping import ScannedPage
from scanner.pages import PageAnalysis
from testkit.drawn_pages import DrawnPage, draw_upright, scan_like
from testkit.scan_files import encode_jpeg, pdf_of_jpegs

MASSICOT = str(Path(sys.executable).with_name("massicot"))
PAPER = "U3"
DPI = 200


def copy_ids(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [new_copy_id(rng) for _ in range(count)]  # type: ignore[arg-type]


def analysis(
    source: str,
    copy: str | None = None,
    number: int | None = None,
    *,
    paper: str | None = PAPER,
    blank: bool = False,
    label: str | None = None,
    label_unreadable: bool = False,
    rotation: int = 0,
    disagree: bool = False,
    written: bool | None = None,
) -> PageAnalysis:
    coded = copy is not None
    return PageAnalysis(
        source=source,
        paper=paper if coded or disagree else None,
        copy_id=copy,
        number=number,
        rotation=rotation,
        skew_degrees=0.0,
        blank=blank,
        codes_read=4 if coded else (2 if disagree else 0),
        codes_disagree=disagree,
        label_registration=label,
        label_unreadable=label_unreadable,
        header_ink=False,
        width=1654,
        height=2339,
        writing_mm2=None if written is None else (2500.0 if written else 0.0),
        written=written,
    )


def scanned(order: int, copy: str | None = None, number: int | None = None, **kw) -> ScannedPage:
    extra = {k: kw.pop(k) for k in list(kw) if k in ScannedPage.__dataclass_fields__}
    source = f"scan.pdf#{order}"
    image = f"images/{order:064d}.jpg" if copy is not None else None
    return ScannedPage(
        source=source, order=order, analysis=analysis(source, copy, number, **kw), image=image, **extra
    )


# -- drawn scans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One scanned sheet side: a booklet page (copy, number) or an annex/blank without code."""

    copy: str | None
    number: int = 2
    registration: str | None = None
    rotation: int = 0
    skew: float = 0.0
    writing: bool = True
    seed: int = 0
    paper: str = PAPER


@cache
def sheet_jpeg(sheet: Sheet) -> bytes:
    spec = DrawnPage(
        paper=sheet.paper,
        copy_id=sheet.copy or "23456789Z",
        number=sheet.number,
        registration=sheet.registration,
        writing=sheet.writing,
        codes=sheet.copy is not None,
        dpi=DPI,
        seed=sheet.seed,
    )
    gray = scan_like(
        draw_upright(spec, load_model()), rotation=sheet.rotation, skew=sheet.skew, seed=sheet.seed
    )
    return encode_jpeg(gray, DPI)


def write_pdf(path: Path, sheets: list[Sheet]) -> Path:
    path.write_bytes(pdf_of_jpegs([sheet_jpeg(s) for s in sheets], DPI))
    return path


def booklet(copy: str, registration: str | None, pages: int = 4, **kw) -> list[Sheet]:
    seed = kw.pop("seed", 0)
    return [
        Sheet(copy, n, registration if n == 1 else None, seed=seed * 10 + n, **kw)
        for n in range(1, pages + 1)
    ]


def write_roll(path: Path, lines: list[tuple[str, bool]]) -> Path:
    text = "candidate,name,present\n" + "".join(
        f"{c},Name {c},{'yes' if present else 'no'}\n" for c, present in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [MASSICOT, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"massicot {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def report(lot: Path) -> dict:
    return json.loads(run("scan", "report", str(lot), "--json").stdout)


def kinds(rep: dict) -> list[str]:
    return sorted(a["kind"] for a in rep["anomalies"])


def analyse_or_die(task):
    """A stand-in for a decoder that crashes its worker process on one page (named fake)."""
    import signal

    from scanner.importing import analyse_task

    if task.source.endswith("#2"):
        os.kill(os.getpid(), signal.SIGKILL)
    return analyse_task(task)


def journal(lot: Path, kind: str) -> list[dict]:
    path = lot / "journal.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [e for e in (json.loads(x) for x in lines if x.strip()) if e.get("t") == kind]
