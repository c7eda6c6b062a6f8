"""Speed of the sample-scan generator (testkit.samples), one core.

Generates a room of filled-in, scanned copies (JPEG folder) at 200 and 300 dpi and
reports pages per second of CPU time (one thread: the machine may be shared, and
wall-clock time on a loaded machine says little). Baseline, measured in the same run: the bare minimum any
generator must do per page, render the printed page with pypdfium2 and encode it as
JPEG q75, with no filling-in, no paper, no skew.

Usage: .venv/bin/python bench/sample_scans.py [--candidates 50] [--pages 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium

from massicot_core.identifiers import new_copy_id
from massicot_core.roll import RollLine
from paper.printing import booklet_pdf
from testkit.samples.defects import DefectPlan
from testkit.samples.session import generate_session


def baseline(tmp: Path, copies: int, pages: int, dpi: int) -> float:
    path = tmp / "baseline.pdf"
    start = time.process_time()
    booklet_pdf("U3", [new_copy_id() for _ in range(copies)], pages, path)
    pdf = pdfium.PdfDocument(path)
    for index in range(len(pdf)):
        image = pdf[index].render(scale=dpi / 72, grayscale=True).to_numpy()
        gray = np.ascontiguousarray(image[..., 0] if image.ndim == 3 else image)
        ok, _ = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 75])
    pdf.close()
    return copies * pages / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--pages", type=int, default=4)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    roll = [RollLine(f"A{n:07d}", f"Nom{n} Prénom{n}", n % 10 != 3) for n in range(args.candidates)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for dpi in (200, 300):
            for name, plan in (("clean", DefectPlan.none()), ("evening", DefectPlan.all())):
                out = Path(tmp) / f"{dpi}-{name}"
                start = time.process_time()
                truth = generate_session(
                    out, "U3", roll, pages=args.pages, dpi=dpi, defects=plan, formats=("jpeg",)
                )
                seconds = time.process_time() - start
                size = sum(f.stat().st_size for f in (out / "jpeg").iterdir()) / len(truth.pages) / 1000
                base = baseline(Path(tmp), args.candidates, args.pages, dpi)
                results.append((dpi, name, len(truth.pages), seconds, len(truth.pages) / seconds, base, size))
    print(
        f"{'dpi':>4} {'defects':8} {'pages':>6} {'cpu s':>8} {'pages/s':>8} "
        f"{'baseline/s':>10} {'ratio':>6} {'KB/page':>8}"
    )
    for dpi, name, pages, seconds, rate, base, size in results:
        print(
            f"{dpi:>4} {name:8} {pages:>6} {seconds:>8.1f} {rate:>8.1f} "
            f"{base:>10.1f} {rate / base:>6.2f} {size:>8.0f}"
        )
    print(
        "figures: "
        + "; ".join(
            f"{d} dpi {n}: {r:.1f} pages/s ({r / b:.2f}× render+encode)" for d, n, _, _, r, b, _ in results
        )
    )


if __name__ == "__main__":
    main()
