"""Candidate import speed: lines per second, against a naive baseline measured in the same run.

Writes a candidate CSV (N lines, 20 centres, 40 establishments, one paper), then on a fresh
SQLite database (or --db URL of an EMPTY PostgreSQL database, which the bench fills) times:

- `import_candidates` (parse + checks + bulk writes, one transaction), first import;
- the same file again (nothing to change: the idempotent path);
- a naive baseline: the same parsed lines written as one ORM Candidate + RollEntry per line,
  centres and establishments looked up by query per line, in one transaction.

Last line, exactly:
lines_per_s=<x> reimport_lines_per_s=<y> baseline_lines_per_s=<z> ratio=<x/z>

Usage: python bench/office_import.py [--lines 20000] [--baseline-lines 4000]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from correction_server.db import make_engine, make_session_factory, transaction
from correction_server.migrate import upgrade_database
from correction_server.models import Candidate, Centre, Establishment, Paper, RollEntry
from correction_server.office.candidates import import_candidates, parse_candidates
from correction_server.office.papers import import_paper
from correction_server.office.tables import read_table

ROOT = Path(__file__).resolve().parents[1]

SAMPLE_PAPER = ROOT / "massicot" / "samples" / "paper_u3.yaml"
HEADER = [
    "registration",
    "surname",
    "given_names",
    "birth_date",
    "establishment_uai",
    "establishment_name",
    "centre_uai",
    "centre_name",
    "papers",
]


def write_candidates(path: Path, lines: int, offset: int = 0) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(offset, offset + lines):
            writer.writerow(
                [
                    f"0241{i:07d}",
                    f"NOM{i}",
                    "Léa",
                    f"{2004 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    f"{130000 + i % 40:07d}A",
                    f"Lycée {i % 40}",
                    f"{140000 + i % 20:07d}B",
                    f"Centre {i % 20}",
                    "U3",
                ]
            )


def naive_import(factory, path: Path) -> None:
    """The straightforward way: one ORM object per line, lookups by query."""
    parsed = parse_candidates(read_table(path))
    with transaction(factory) as db:
        paper = db.scalars(select(Paper).where(Paper.code == "U3")).one()
        for line in parsed.lines:
            centre = db.scalars(select(Centre).where(Centre.uai == line.centre_uai)).one_or_none()
            if centre is None:
                centre = Centre(uai=line.centre_uai, name=line.centre_name)
                db.add(centre)
            establishment = db.scalars(
                select(Establishment).where(Establishment.uai == line.establishment_uai)
            ).one_or_none()
            if establishment is None:
                establishment = Establishment(uai=line.establishment_uai, name=line.establishment_name)
                db.add(establishment)
            candidate = Candidate(
                registration=line.registration,
                surname=line.surname,
                given_names=line.given_names,
                birth_date=line.birth_date,
                centre=centre,
                establishment=establishment,
            )
            candidate.roll.append(RollEntry(paper=paper))
            db.add(candidate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--baseline-lines", type=int, default=4000)
    parser.add_argument("--db", help="URL of an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        url = args.db or f"sqlite:///{work / 'bench.sqlite3'}"
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        import_paper(factory, SAMPLE_PAPER)
        write_candidates(work / "main.csv", args.lines)
        # The baseline's registrations do not overlap the main file's.
        write_candidates(work / "baseline.csv", args.baseline_lines, offset=args.lines)

        started = time.perf_counter()
        summary = import_candidates(factory, work / "main.csv")
        first = time.perf_counter() - started
        assert summary.candidates_created == args.lines, summary
        started = time.perf_counter()
        summary = import_candidates(factory, work / "main.csv")
        again = time.perf_counter() - started
        assert not summary.changed, summary
        started = time.perf_counter()
        naive_import(factory, work / "baseline.csv")
        baseline = time.perf_counter() - started
        engine.dispose()

    rate, rate_again, rate_base = args.lines / first, args.lines / again, args.baseline_lines / baseline
    print(f"database: {url.split(':', 1)[0]}")
    print(f"import    {args.lines} lines in {first:.2f} s")
    print(f"re-import {args.lines} lines in {again:.2f} s (nothing to change)")
    print(f"baseline  {args.baseline_lines} lines in {baseline:.2f} s (one ORM object per line)")
    print(
        f"lines_per_s={rate:.0f} reimport_lines_per_s={rate_again:.0f} "
        f"baseline_lines_per_s={rate_base:.0f} ratio={rate / rate_base:.1f}"
    )


if __name__ == "__main__":
    main()
