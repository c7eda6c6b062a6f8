"""Scan pipeline throughput: pages per second per core, against a naive baseline measured here.

Generates realistic 300 dpi grayscale booklet pages with the sample-scan generator
(testkit.samples: 4-page copies, filled answers, stuck labels, a few pages upside
down, skewed sheets) in a scanner-like PDF (one JPEG per page, DCTDecode), then times:

- the pipeline on one core: iter_source_pages + process_page + writing each
  corrector-facing image and its SHA-256 to a temporary folder;
- the same on every core (one worker process per core);
- a naive baseline in the same process: render each PDF page at 300 dpi with
  pypdfium2, read the codes on the full page, deskew the whole page, mask the
  header, re-encode as JPEG.

The three are run in turns, --runs times, and each figure is the best of its runs.
Then the time per step (median ms per page) and the masking methods compared.
Last line, exactly:
pages_per_s_per_core=<x> pages_per_s_all=<y> baseline_pages_per_s_per_core=<z> ratio=<x/z>

Usage: python bench/scan_throughput.py [--pages 240] [--baseline-pages 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from massicot_core.identifiers import new_copy_id
from paper.copy_model import load_model
from scanner import codes as code_reader
from scanner import pages as page_steps
from scanner.dct import CoefficientImage, natural_order
from scanner.decoding import jpeg_header, page_dpi, prepare_analysis_process, reduction_for
from scanner.masking import (
    block_grid,
    header_polygon,
    mask_jpeg_after,
    mask_jpeg_lossless,
    mask_jpeg_reencode,
)
from scanner.pages import process_page
from scanner.placement import fit_placement, rotation_and_skew
from scanner.sources import SourcePage, iter_source_pages
from testkit.drawn_pages import DrawnPage, draw_upright, scan_like
from testkit.scan_files import encode_jpeg, pdf_of_jpegs

PAPER = "U3"
PAGES_PER_COPY = 4
GLIBC_TUNABLES = "glibc.malloc.mmap_threshold=134217728:glibc.malloc.trim_threshold=268435456"


# ---------------------------------------------------------------- generating the scans


def _one_page(args: tuple[int, str, int, str]) -> bytes:
    seed, copy_id, number, registration = args
    model = load_model()
    rng = np.random.default_rng(seed)
    spec = DrawnPage(
        paper=PAPER,
        copy_id=copy_id,
        number=number,
        registration=registration if number == 1 else None,
        seed=seed,
    )
    rotation = 180 if rng.random() < 0.06 else 0  # a sheet fed the wrong way now and then
    skew = float(rng.normal(0, 0.8))  # feeders skew sheets by a degree or so
    return encode_jpeg(scan_like(draw_upright(spec, model), rotation=rotation, skew=skew, seed=seed))


def generate_pdf(pages: int, folder: Path, workers: int) -> tuple[Path, str]:
    """The sample-scan generator's pages (testkit.samples), else the simpler drawn pages."""
    try:
        from massicot_core.roll import RollLine
        from testkit.samples.defects import DefectPlan
        from testkit.samples.session import generate_session
    except ImportError:
        return _drawn_pdf(pages, folder, workers), "testkit/drawn_pages.py"
    copies = (pages + PAGES_PER_COPY - 1) // PAGES_PER_COPY
    roll = [RollLine(f"C{c:06d}", f"Candidat {c}", True) for c in range(copies)]
    defects = DefectPlan(upside_down=max(1, pages // 40), skew_max_deg=1.5, torn_label=1, header_ink=1)
    truth = generate_session(
        folder / "samples",
        PAPER,
        roll,
        pages=PAGES_PER_COPY,
        dpi=300,
        seed=7,
        defects=defects,
        formats=("pdf",),
    )
    return folder / "samples" / truth.files["pdf"], "testkit/samples"


def _drawn_pdf(pages: int, folder: Path, workers: int) -> Path:
    copies = (pages + PAGES_PER_COPY - 1) // PAGES_PER_COPY
    jobs = []
    for c in range(copies):
        copy_id = new_copy_id()
        registration = f"C{c:06d}"
        for number in range(1, PAGES_PER_COPY + 1):
            jobs.append((c * 10 + number, copy_id, number, registration))
    jobs = jobs[:pages]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        jpegs = pool.map(_one_page, jobs, chunksize=4)
    path = folder / "scan_batch.pdf"
    path.write_bytes(pdf_of_jpegs(jpegs))
    return path


# ---------------------------------------------------------------- the pipeline


_MODEL = None
_OUT: Path | None = None


def _worker_init(out: str) -> None:
    global _MODEL, _OUT
    prepare_analysis_process()  # as the import's workers: one thread, page buffers kept
    _MODEL = load_model()
    _OUT = Path(out)


def handle_page(page: SourcePage) -> tuple[str, int | None, bool]:
    """What the import does per page: analyse, then write the corrector-facing image by its hash."""
    assert _MODEL is not None and _OUT is not None
    result = process_page(page, _MODEL, PAPER)
    if result.image is not None:
        digest = hashlib.sha256(result.image).hexdigest()
        suffix = ".jpg" if result.media_type == "image/jpeg" else ".png"
        (_OUT / f"{digest}{suffix}").write_bytes(result.image)
    return page.source, result.analysis.number, result.analysis.codes_read > 0


def run_one_core(pdf: Path, out: Path) -> tuple[float, float, list]:
    """(wall seconds, CPU seconds, results): the CPU time is what one core spent, whatever else
    the machine was doing meanwhile."""
    _worker_init(str(out))
    start, cpu = time.perf_counter(), time.process_time()
    results = [handle_page(p) for p in iter_source_pages(pdf, pdf.name) if isinstance(p, SourcePage)]
    return time.perf_counter() - start, time.process_time() - cpu, results


def run_all_cores(pdf: Path, out: Path, workers: int) -> tuple[float, list]:
    # Workers start with the malloc settings from their environment (ARCHITECTURE.md, "two traps").
    os.environ["GLIBC_TUNABLES"] = GLIBC_TUNABLES
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_worker_init, initargs=(str(out),)) as pool:
        pool.map(abs, range(workers * 4))  # workers up and imported before the clock starts
        start = time.perf_counter()
        pages = (p for p in iter_source_pages(pdf, pdf.name) if isinstance(p, SourcePage))
        results = list(pool.imap(handle_page, pages, chunksize=2))
        elapsed = time.perf_counter() - start
    return elapsed, results


# ---------------------------------------------------------------- the naive baseline


def run_baseline(pdf: Path, out: Path, limit: int) -> tuple[float, float, int]:
    """Render, decode the full page, read codes on the full page, deskew, mask, re-encode."""
    import pypdfium2 as pdfium

    model = load_model()
    start, cpu = time.perf_counter(), time.process_time()
    doc = pdfium.PdfDocument(str(pdf))
    count = min(limit, len(doc))
    ppm = 300 / 25.4
    for index in range(count):
        page = doc[index]
        gray = page.render(scale=300 / 72, grayscale=True).to_numpy()
        if gray.ndim == 3:
            gray = gray[:, :, 0]
        gray = np.ascontiguousarray(gray)
        found = code_reader.read_codes(gray)
        codes = [c for c in found if c.page_code is not None]
        placement = fit_placement(codes, model) if codes else None
        angle = 0.0
        if placement is not None:
            rotation, skew = rotation_and_skew(placement)
            angle = rotation + skew
        h, w = gray.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
        straight = cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        if codes and codes[0].page_code.page == 1:
            x, y, bw, bh = model.header
            straight[int(y * ppm) : int((y + bh) * ppm), int(x * ppm) : int((x + bw) * ppm)] = 255
        ok, buf = cv2.imencode(".jpg", straight, [cv2.IMWRITE_JPEG_QUALITY, 75])
        data = buf.tobytes()
        (out / f"{hashlib.sha256(data).hexdigest()}.jpg").write_bytes(data)
        page.close()
    doc.close()
    return time.perf_counter() - start, time.process_time() - cpu, count


# ---------------------------------------------------------------- where the time goes


def _ms(fn, *args):
    """Value and CPU milliseconds (the machine is shared: CPU time is what the step costs)."""
    start = time.process_time()
    value = fn(*args)
    return value, (time.process_time() - start) * 1000


def step_profile(pdf: Path, out: Path, model) -> dict[str, list[float]]:
    """The pipeline's steps timed one by one on every page (same code as process_page).

    A JPEG page is analysed while libjpeg holds its coefficients (scanner.masking.mask_jpeg_after):
    the steps are timed inside that call, the read is the call's time without them."""
    steps: dict[str, list[float]] = {}
    writings: list[float] = []

    def note(name: str, ms: float) -> None:
        steps.setdefault(name, []).append(ms)

    def analysis_steps(page: SourcePage, img) -> tuple[float, object]:
        """(CPU ms the steps took, (number, placement) found), timing each step."""
        inner = time.process_time()
        (small, shrink), ms = _ms(img.eighth)
        note("1/8 page from the DC coefficients", ms)
        cells, ms = _ms(page_steps.ink_cells, small, img.dpi / 8, model.page_mm)
        note("blank test (sheet found first)", ms)
        has_ink = cells > page_steps.BLANK_MAX_INK_CELLS
        found, ms = _ms(lambda: page_steps.find_page_codes(img, model, has_ink=has_ink))
        note("corner codes (75 dpi zones, zxing)", ms)
        verdict, ms = _ms(page_steps.judge_codes, found, img.shape)
        placement, ms2 = _ms(fit_placement, verdict.agreeing, model)
        note("codes agree + rotation/skew fit", ms + ms2)
        if placement is not None and verdict.number is not None:
            zone = model.answer_first if verdict.number == 1 else model.answer
            writing, ms = _ms(page_steps.answer_writing, small, placement / shrink, zone, img.dpi / 8 / 25.4)
            note("writing in the answer zone (1/8 page)", ms)
            writings.append(writing)
        if verdict.number == 1 and placement is not None:
            grid, ms = _ms(page_steps.header_grid, img, placement, model)
            _, ms2 = _ms(page_steps.header_ink, grid, model)
            note("page 1: header zone at 150 dpi + its ink", ms + ms2)
            _, ms = _ms(page_steps.read_label_code, img, placement, model)
            note("page 1: label code (inside the header zone)", ms)
        return (time.process_time() - inner) * 1000, (verdict.number, placement)

    iterator = iter_source_pages(pdf, pdf.name)
    while True:
        start = time.process_time()
        page = next(iterator, None)
        note("source page (PDF stream, raw)", (time.process_time() - start) * 1000)
        if page is None:
            break
        header = jpeg_header(page.data)
        dpi = page_dpi(header, page.dpi)
        quant = natural_order(header.quant[0])
        seen: dict[str, tuple] = {}

        def decide(blocks, page=page, header=header, dpi=dpi, quant=quant, seen=seen):
            img = CoefficientImage(
                blocks, quant, factor=reduction_for(dpi), width=header.width, height=header.height, dpi=dpi
            )
            seen["steps"] = analysis_steps(page, img)
            img.close()
            return None

        _, ms = _ms(mask_jpeg_after, page.data, decide)
        spent, (number, placement) = seen["steps"]
        note("coefficient read (stopped at the decision)", ms - spent)
        image = page.data
        if number == 1 and placement is not None:
            polygon = header_polygon(placement * reduction_for(dpi), model)
            read = ms - spent
            image, ms = _ms(mask_jpeg_lossless, page.data, polygon)
            note("page 1: mask written (whitening + entropy coding)", ms - read)
        start = time.process_time()
        digest = hashlib.sha256(image).hexdigest()
        (out / f"{digest}.jpg").write_bytes(image)
        note("SHA-256 + write image", (time.process_time() - start) * 1000)
    threshold = page_steps.WRITING_MIN_MM2
    print(
        f"writing measured on {len(writings)} booklet pages (all written): least {min(writings):.0f} mm², "
        f"{sum(w < threshold for w in writings)} called empty (threshold {threshold} mm²)"
    )
    return steps


def mask_methods(pdf: Path, model, count: int = 15) -> dict[str, float]:
    """Median ms to mask a page 1 by each method (same zone, same pages)."""
    page1 = []
    for page in iter_source_pages(pdf, pdf.name):
        if isinstance(page, SourcePage):
            result = process_page(page, model, PAPER)
            if result.analysis.number == 1 and result.analysis.placement is not None:
                page1.append((page.data, np.array(result.analysis.placement).reshape(2, 3)))
        if len(page1) >= count:
            break
    timings: dict[str, list[float]] = {"lossless DCT (tjTransform filter)": [], "decode+re-encode q85": []}
    jpegtran = shutil.which("jpegtran")
    if jpegtran:
        timings["jpegtran -drop (subprocess)"] = []
    with tempfile.TemporaryDirectory() as tmp:
        for data, placement in page1:
            polygon = header_polygon(placement, model)
            timings["lossless DCT (tjTransform filter)"].append(_ms(mask_jpeg_lossless, data, polygon)[1])
            timings["decode+re-encode q85"].append(_ms(mask_jpeg_reencode, data, polygon)[1])
            if jpegtran:
                ms = _jpegtran_drop(jpegtran, data, polygon, Path(tmp))
                timings["jpegtran -drop (subprocess)"].append(ms)
    return {name: statistics.median(v) for name, v in timings.items() if v}


def _jpegtran_drop(jpegtran: str, data: bytes, polygon, tmp: Path) -> float:
    """Drop a white JPEG over the header's bounding blocks (rectangles only: the zone's box)."""
    header = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    height, width = header.shape[0] * 8, header.shape[1] * 8
    grid = block_grid(polygon, width, height)
    rows, cols = np.nonzero(grid)
    x0, y0 = int(cols.min()) * 8, int(rows.min()) * 8
    w, h = (int(cols.max()) + 1) * 8 - x0, (int(rows.max()) + 1) * 8 - y0
    white = tmp / f"white_{w}x{h}.jpg"
    if not white.exists():
        cv2.imwrite(str(white), np.full((h, w), 255, np.uint8))
    src = tmp / "in.jpg"
    src.write_bytes(data)
    start = time.perf_counter()  # wall: the work happens in another process
    subprocess.run(
        [jpegtran, "-drop", f"+{x0}+{y0}", str(white), "-outfile", str(tmp / "out.jpg"), str(src)],
        check=True,
        capture_output=True,
    )
    return (time.perf_counter() - start) * 1000


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=240)
    parser.add_argument("--baseline-pages", type=int, default=60)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3, help="runs of each side; the best of each is kept")
    args = parser.parse_args()
    model = load_model()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="massicot-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        pdf, generator = generate_pdf(args.pages, folder, args.workers)
        size_mb = pdf.stat().st_size / 1e6
        print(
            f"generated {args.pages} pages with {generator} (300 dpi grayscale JPEG q75 in one PDF, "
            f"{size_mb:.0f} MB, {size_mb * 1000 / args.pages:.0f} KB/page) "
            f"in {time.perf_counter() - start:.1f} s"
        )

        def fresh(name: str) -> Path:
            path = folder / name
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir()
            return path

        run_one_core(pdf, fresh("warmup"))  # page cache and imports warm for every run alike
        # Runs taken in turns (pipeline, all cores, baseline), each figure the best of its runs: a
        # burst of load from the machine's other tenants then hits both sides alike, and the
        # figure is what the code costs, not what the neighbours did.
        ones, alls, bases = [], [], []
        for run in range(1, args.runs + 1):
            one_s, one_cpu, results = run_one_core(pdf, fresh("one"))
            coded = sum(1 for _, number, read in results if read and number is not None)
            ones.append(one_cpu)
            print(
                f"run {run}, one core : {len(results)} pages in {one_s:.2f} s wall, {one_cpu:.2f} s CPU, "
                f"{coded} with codes read"
            )
            all_s, results_all = run_all_cores(pdf, fresh("all"), args.workers)
            alls.append(all_s)
            print(f"run {run}, {args.workers} cores: {len(results_all)} pages in {all_s:.2f} s wall")
            if sorted(results_all) != sorted(results):
                print("WARNING: the multi-core run did not give the same results as the one-core run")
            base_s, base_cpu, base_n = run_baseline(pdf, fresh("baseline"), args.baseline_pages)
            bases.append(base_cpu)
            print(
                f"run {run}, baseline : {base_n} pages in {base_s:.2f} s wall, {base_cpu:.2f} s CPU "
                "(render 300 dpi, full-page codes, warp, re-encode)"
            )
        one_cpu, all_s, base_cpu = min(ones), min(alls), min(bases)
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

        steps = step_profile(pdf, fresh("steps"), model)
        print("\nwhere the time goes (median CPU ms per page that has the step; one core):")
        total = 0.0
        for name, values in steps.items():
            median = statistics.median(values)
            share = sum(values) / len(results)
            total += share
            print(f"  {name:40s} {median:7.2f} ms   (n={len(values)}, {share:6.2f} ms per page on average)")
        print(f"  {'sum of steps, per page on average':40s} {total:7.2f} ms")
        print("\nmasking a page 1 (median ms):")
        for name, median in mask_methods(pdf, model).items():
            print(f"  {name:40s} {median:7.2f} ms")

    # Per core = pages per CPU-second of one process pinned to one thread (wall figures above):
    # the machine is shared, and CPU time is what a dedicated core would spend.
    per_core = len(results) / one_cpu
    all_cores = len(results_all) / all_s
    baseline = base_n / base_cpu
    print(
        f"pages_per_s_per_core={per_core:.1f} pages_per_s_all={all_cores:.1f} "
        f"baseline_pages_per_s_per_core={baseline:.2f} ratio={per_core / baseline:.1f}"
    )


if __name__ == "__main__":
    main()
