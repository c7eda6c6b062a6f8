"""Which matrix code to print in the page corners: QR, Micro QR or DataMatrix?

Each symbology carries the page code payload, is printed as vectors at the copy model's
size and place (four corners per page), rendered with pypdfium2 at 200 and 300 dpi,
degraded as a scan would be, and read with zxing-cpp the way scanner/codes.py reads:
one crop per image corner, restricted to the symbology.

Degradation levels (each page gets its own random draw, seeded):
  scan   blur σ 0.4–1.0 px, noise σ 4, skew ±5°, scale ±2 %, JPEG q75
  harsh  faded toner (ink at 59 % gray), blur σ 1.0–1.6 px, noise σ 10, skew ±5°, scale ±3 %, JPEG q50
  severe faded toner (ink at 69 % gray), blur σ 1.6–2.2 px, noise σ 14, skew ±5°, scale ±3 %, JPEG q40

Read time is the zxing-cpp time for the four corner crops of a page; the ratio column
compares it with QR (the copy model's symbology, the baseline) in the same run.
Micro QR cannot hold the page payload (22 characters: M4-L holds 21 alphanumerics):
it is measured with the payload without its "MC1/" version prefix, at level M.

Usage: .venv/bin/python bench/symbology.py [--pages 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import segno
import zxingcpp
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from massicot_core.identifiers import CORNERS, PageCode, new_copy_id
from paper.copy_model import load_model
from paper.printing import draw_modules

MODEL = load_model()
F = zxingcpp.BarcodeFormat


@dataclass(frozen=True)
class Symbology:
    name: str
    fmt: zxingcpp.BarcodeFormat

    def payload(self, code: PageCode) -> str:
        text = code.payload()
        return text.split("/", 1)[1] if self.fmt == F.MicroQRCode else text

    def matrix(self, text: str) -> list[list[int]]:
        if self.fmt == F.QRCode:  # exactly as templates/printing.py prints it
            return [list(r) for r in segno.make(text, error="m", micro=False, boost_error=True).matrix]
        kwargs = {"ec_level": "M"} if self.fmt == F.MicroQRCode else {}
        image = np.array(zxingcpp.create_barcode(text, self.fmt, **kwargs).to_image(add_quiet_zones=False))
        return (image < 128).astype(int).tolist()


SYMBOLOGIES = (
    Symbology("QR", F.QRCode),
    Symbology("Micro QR", F.MicroQRCode),
    Symbology("DataMatrix", F.DataMatrix),
)
LEVELS = {
    "scan": dict(ink=0, blur=(0.4, 1.0), noise=4.0, scale=0.02, quality=75),
    "harsh": dict(ink=150, blur=(1.0, 1.6), noise=10.0, scale=0.03, quality=50),
    "severe": dict(ink=175, blur=(1.6, 2.2), noise=14.0, scale=0.03, quality=40),
}


def print_pages(sym: Symbology, payloads: list[dict[str, str]], out: Path) -> int:
    """One PDF page per entry, a code in each corner box of the model. Returns the module count."""
    width, height = MODEL.page_mm
    canvas = Canvas(str(out), pagesize=(width * mm, height * mm))
    modules = 0
    for page in payloads:
        for corner, text in page.items():
            rows = sym.matrix(text)
            modules = len(rows)
            draw_modules(canvas, height, MODEL.codes[corner], rows)
        canvas.showPage()
    canvas.save()
    return modules


def degrade(
    gray: np.ndarray, level: dict, rng: random.Random, np_rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The page as a scanner would deliver it, and the affine map from rendered to scanned pixels."""
    img = gray
    if level["ink"]:
        img = cv2.convertScaleAbs(img, alpha=(255 - level["ink"]) / 255.0, beta=level["ink"])
    h, w = img.shape
    angle, scale = rng.uniform(-5, 5), 1 + rng.uniform(-level["scale"], level["scale"])
    rad = np.radians(abs(angle))
    bw = int(np.ceil((w * np.cos(rad) + h * np.sin(rad)) * scale))
    bh = int(np.ceil((w * np.sin(rad) + h * np.cos(rad)) * scale))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[0, 2] += (bw - w) / 2
    m[1, 2] += (bh - h) / 2
    img = cv2.warpAffine(img, m, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=235)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(*level["blur"]))
    noise = np_rng.normal(0, level["noise"], img.shape).astype(np.int16)
    img = np.clip(img.astype(np.int16) - 12 + noise, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, level["quality"]])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), m


def read_zone(gray: np.ndarray, x0: int, y0: int, size: int, fmt) -> set[str]:
    x0, y0 = max(0, x0), max(0, y0)
    crop = np.ascontiguousarray(gray[y0 : y0 + size, x0 : x0 + size])
    found = zxingcpp.read_barcodes(crop, formats=fmt, try_rotate=True, try_downscale=False, try_invert=False)
    return {b.text for b in found if b.valid}


def read_at_codes(gray: np.ndarray, m: np.ndarray, fmt, dpi: int) -> tuple[set[str], float]:
    """Read a 30 mm square centred where each code really landed: the symbology alone, no locating."""
    ppm = dpi / 25.4
    size = int(30 * ppm)
    texts: set[str] = set()
    start = time.perf_counter()
    for corner in CORNERS:
        cx, cy = (v * ppm for v in MODEL.code_centre(corner))
        x, y = m @ np.array([cx, cy, 1.0])
        texts |= read_zone(gray, int(x - size / 2), int(y - size / 2), size, fmt)
    return texts, time.perf_counter() - start


def read_corner_zones(gray: np.ndarray, fmt, dpi: int, zone_mm: float) -> set[str]:
    """As scanner/codes.py reads: one square per image corner."""
    height, width = gray.shape
    zone = int(zone_mm * dpi / 25.4)
    texts: set[str] = set()
    for x0, y0 in ((0, 0), (width - zone, 0), (0, height - zone), (width - zone, height - zone)):
        texts |= read_zone(gray, x0, y0, zone, fmt)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    codes = [
        {c: PageCode("U3", new_copy_id(rng), rng.randint(1, 12), c) for c in CORNERS}
        for _ in range(args.pages)
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sym in SYMBOLOGIES:
            payloads = [{c: sym.payload(code) for c, code in page.items()} for page in codes]
            pdf_path = Path(tmp) / f"{sym.name}.pdf"
            modules = print_pages(sym, payloads, pdf_path)
            pdf = pdfium.PdfDocument(pdf_path)
            for dpi in (200, 300):
                rendered = []
                for i in range(len(pdf)):
                    image = pdf[i].render(scale=dpi / 72, grayscale=True).to_numpy()
                    rendered.append(np.ascontiguousarray(image[..., 0] if image.ndim == 3 else image))
                for level_name, level in LEVELS.items():
                    level_rng = random.Random(
                        f"{args.seed}/{dpi}/{level_name}"
                    )  # same draws for every symbology
                    np_rng = np.random.default_rng(args.seed + dpi)
                    read = pages_ok = 0
                    zones = {40: 0, 50: 0}
                    pages40 = 0
                    times = []
                    for page, image in zip(payloads, rendered, strict=True):
                        scanned, m = degrade(image, level, level_rng, np_rng)
                        texts, seconds = read_at_codes(scanned, m, sym.fmt, dpi)
                        found = sum(1 for t in page.values() if t in texts)
                        read += found
                        pages_ok += found >= 2
                        times.append(seconds * 1000)
                        for zone_mm in zones:
                            in_zones = read_corner_zones(scanned, sym.fmt, dpi, zone_mm)
                            in_page = sum(1 for t in page.values() if t in in_zones)
                            zones[zone_mm] += in_page
                            pages40 += zone_mm == 40 and in_page >= 2
                    n = 4 * len(payloads)
                    rows.append(
                        dict(
                            sym=sym.name,
                            dpi=dpi,
                            level=level_name,
                            chars=len(next(iter(payloads[0].values()))),
                            modules=modules,
                            module_mm=MODEL.code_size_mm / modules,
                            rate=100 * read / n,
                            pages=100 * pages_ok / len(payloads),
                            zone40=100 * zones[40] / n,
                            zone50=100 * zones[50] / n,
                            pages40=100 * pages40 / len(payloads),
                            ms=statistics.median(times),
                        )
                    )
            pdf.close()
    base = {(r["dpi"], r["level"]): r["ms"] for r in rows if r["sym"] == "QR"}
    print(
        f"{args.pages} pages × 4 corner codes of {MODEL.code_size_mm:g} mm, "
        f"zxing-cpp {metadata.version('zxing-cpp')}"
    )
    header = f"{'symbology':11} {'dpi':>4} {'level':6} {'chars':>5} {'modules':>7} {'mm/mod':>6} "
    header += f"{'read':>6} {'pages≥2':>7} {'40mm':>6} {'p≥2':>6} {'50mm':>6} {'ms/page':>7} {'× QR':>5}"
    print(header)
    for r in rows:
        ratio = r["ms"] / base[(r["dpi"], r["level"])]
        print(
            f"{r['sym']:11} {r['dpi']:>4} {r['level']:6} {r['chars']:>5} {r['modules']:>7} "
            f"{r['module_mm']:>6.2f} {r['rate']:>5.1f}% {r['pages']:>6.1f}% "
            f"{r['zone40']:>5.1f}% {r['pages40']:>5.1f}% "
            f"{r['zone50']:>5.1f}% {r['ms']:>7.2f} {ratio:>5.2f}"
        )
    print(
        "read = codes read in a 30 mm square where each code landed (the symbology alone); "
        "40mm/50mm = codes read in corner zones of that size, as scanner/codes.py locates them; "
        "p≥2 = pages with at least two codes read in 40 mm zones"
    )
    print(
        "figures: "
        + "; ".join(
            f"{r['sym']} {r['dpi']}dpi {r['level']} {r['rate']:.1f}% "
            f"(40mm {r['zone40']:.1f}%) {r['ms']:.2f}ms"
            for r in rows
        )
    )


if __name__ == "__main__":
    main()
