"""Sample scans: printed booklets, filled in and scanned as on a real exam evening.

Booklets and labels are printed with paper.printing and rendered with pypdfium2 (each printed
page once); the candidate's hand, the stuck label, the paper and the scanner are then composed
with numpy/OpenCV (testkit.samples.artist). Everything that was done to a page is written beside
the scans in truth.json (testkit.samples.truth), so a test can compare what the scan station
found with what really happened.

A skewed sheet is scanned as a scanner set to automatic size does: the image is the sheet's
bounding box, a little larger than A4, with the backing showing around it.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from massicot_core.errors import UserError
from massicot_core.identifiers import new_copy_id
from massicot_core.roll import RollLine
from paper.copy_model import CopyModel, load_model
from paper.inserts import inserts_pdf
from paper.printing import booklet_pdf, check_paper_format, labels_pdf, pdf_pages_per_booklet
from testkit.samples.artist import BACKING_GRAY, Artist
from testkit.samples.defects import DefectPlan
from testkit.samples.evening import PlannedCopy, plan_evening
from testkit.samples.truth import Truth, TruthCopy, TruthPage
from testkit.samples.writers import FORMATS, ScanWriters
from testkit.scan_files import encode_jpeg


def _render_page(pdf: pdfium.PdfDocument, index: int, dpi: int) -> np.ndarray:
    image = pdf[index].render(scale=dpi / 72, grayscale=True).to_numpy()
    return np.ascontiguousarray(image[..., 0] if image.ndim == 3 else image)


def _render(pdf_path: Path, dpi: int) -> list[np.ndarray]:
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        return [_render_page(pdf, index, dpi) for index in range(len(pdf))]
    finally:
        pdf.close()


def _fit(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """pdfium rounds page sizes up by a pixel: bring every page to the model's size."""
    h, w = shape
    out = np.full(shape, 255, np.uint8)
    out[: min(h, img.shape[0]), : min(w, img.shape[1])] = img[:h, :w]
    return out


def _labels(
    paper: str, lines: list[RollLine], model: CopyModel, dpi: int, work: Path
) -> dict[str, np.ndarray]:
    if not lines:
        return {}
    path = work / f"labels-{paper}.pdf"
    labels_pdf(paper, lines, path, model=model)
    sheets = _render(path, dpi)
    ppm = dpi / 25.4
    crops = {}
    for index, line in enumerate(lines):
        x, y, w, h = model.label_sheet.label_box(index)
        sheet = sheets[index // model.label_sheet.per_sheet]
        crops[line.candidate] = sheet[
            round(y * ppm) : round((y + h) * ppm), round(x * ppm) : round((x + w) * ppm)
        ].copy()
    return crops


def generate_session(
    out_dir: Path,
    paper: str,
    roll: list[RollLine],
    copies: list[str] | None = None,
    *,
    pages: int = 4,
    dpi: int = 300,
    seed: int = 0,
    defects: DefectPlan | None = None,
    formats: tuple[str, ...] = ("jpeg", "pdf"),
    model: CopyModel | None = None,
    foreign_paper: str | None = None,
    backing: int = BACKING_GRAY,
) -> Truth:
    """Print, fill in and scan one room's copies; write the scans and truth.json in out_dir.

    `copies` are the copy ids of the printed booklets, handed out in roll order (one per
    roll line, absent candidates included); by default they are drawn from the seed.
    """
    model = model or load_model()
    defects = defects or DefectPlan.none()
    check_paper_format(paper)
    if dpi not in (150, 200, 240, 300, 400, 600):
        raise UserError(f"--dpi {dpi} is not a scanner resolution: use 200 or 300")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"unknown scan format {', '.join(unknown) or '(none)'}: use jpeg, pdf or tiff")
    if not roll:
        raise UserError("the roll lists no candidate: there is nothing to scan")
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    if copies is None:
        copies = [new_copy_id(rng) for _ in roll]  # type: ignore[arg-type]
    if len(copies) < len(roll):
        raise UserError(f"{len(copies)} booklets for {len(roll)} candidates: print more booklets")
    foreign_paper = foreign_paper or ("AUTRE" if paper != "AUTRE" else "AUTRE2")
    plan_copies, sheets, marks = plan_evening(paper, roll, list(copies), pages, defects, rng, foreign_paper)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    artist = Artist(model, dpi, rng, np_rng, backing=backing)
    scan_rng = random.Random(f"{seed}/scan")
    shape = artist.page_shape
    with tempfile.TemporaryDirectory(prefix="massicot-print-") as tmp:
        work = Path(tmp)
        # Booklet pages are rendered when scanned, not all at once: 300 dpi pages weigh 9 MB each.
        printed: dict[str, pdfium.PdfDocument] = {}
        label_images: dict[str, np.ndarray] = {}
        for code in dict.fromkeys(c.paper for c in plan_copies):
            mine = [c for c in plan_copies if c.paper == code]
            booklet_pdf(code, [c.copy_id for c in mine], pages, work / f"booklets-{code}.pdf", model=model)
            printed[code] = pdfium.PdfDocument(work / f"booklets-{code}.pdf")
            label_images.update(_labels(code, [c.line for c in mine if c.label != "none"], model, dpi, work))

        inserts = [
            (marks[c.copy_id]["insert_id"], c.copy_id) for c in plan_copies if "insert_id" in marks[c.copy_id]
        ]
        insert_page: dict[str, int] = {}
        if inserts:
            inserts_pdf(paper, [(i, "graph") for i, _ in inserts], work / "inserts.pdf", model=model)
            printed["inserts"] = pdfium.PdfDocument(work / "inserts.pdf")
            insert_page = {copy_id: n for n, (_, copy_id) in enumerate(inserts)}
        writers = ScanWriters(out_dir, tuple(formats), dpi)
        truth_pages: list[TruthPage] = []
        per_booklet = pdf_pages_per_booklet(pages)
        try:
            for position, sheet in enumerate(sheets):
                c = sheet.copy
                written = False
                # What is on the sheet depends on the sheet alone: scanned twice, it shows the same
                # writing and the same label; only the scan (paper grain, skew) differs.
                artist.rng = random.Random(f"{seed}/{c.copy_id if c else '-'}/{sheet.page}/{sheet.kind}")
                if sheet.kind == "blank":
                    img = np.full(shape, 255, np.uint8)
                elif sheet.kind == "insert":
                    assert c is not None
                    img = _fit(_render_page(printed["inserts"], insert_page[c.copy_id], dpi), shape)
                    artist.handwriting(img, model.insert_answer, c.ink)
                    written = True
                elif sheet.kind == "annex":
                    img = artist.annex(c.ink if c else 40)
                    written = True
                else:
                    assert c is not None and sheet.page is not None
                    index = c.booklet_index * per_booklet + sheet.page - 1
                    img = _fit(_render_page(printed[c.paper], index, dpi), shape)
                    if sheet.page == 1:
                        if c.status not in ("absent", "extra"):
                            artist.identity(img, c.line.name, c.birth_date, c.ink)
                        if marks[c.copy_id].get("header_ink"):
                            artist.header_scrawl(img, c.ink)
                        if c.label != "none":
                            artist.paste_label(img, label_images[c.line.candidate], torn=c.label == "torn")
                        if c.status == "absent":
                            artist.absent(img)
                    if c.status in ("present", "foreign", "extra"):
                        area = model.answer_first if sheet.page == 1 else model.answer
                        if marks[c.copy_id].get("faint_pencil"):
                            artist.pencil(img, area)
                        else:
                            artist.handwriting(img, area, c.ink)
                        written = True
                artist.rng = scan_rng
                scanned = artist.scan(img, sheet.rotation, sheet.skew)
                jpeg = encode_jpeg(scanned, dpi)
                sources = writers.add(position, scanned, jpeg)
                truth_pages.append(
                    TruthPage(
                        position=position,
                        sources=sources,
                        copy_id=c.copy_id if c else None,
                        paper=c.paper if c and sheet.kind == "booklet" else None,
                        page=sheet.page,
                        rotation=sheet.rotation,
                        skew=sheet.skew,
                        blank=sheet.kind == "blank",
                        written=written,
                        defect=sheet.defect,
                    )
                )
        finally:
            writers.close()
            for pdf in printed.values():
                pdf.close()

    truth = Truth(
        paper=paper,
        dpi=dpi,
        seed=seed,
        formats=list(formats),
        pages=truth_pages,
        copies=[_truth_copy(c, marks[c.copy_id], pages) for c in plan_copies],
        defects_requested=asdict(defects),
        files=writers.files,
    )
    (out_dir / "truth.json").write_text(truth.to_json(), encoding="utf-8")
    return truth


def _truth_copy(c: PlannedCopy, mark: dict, pages: int) -> TruthCopy:
    defects = list(mark["defects"])
    if c.status == "foreign":
        defects.append("foreign_copy")
    return TruthCopy(
        copy_id=c.copy_id,
        paper=c.paper,
        candidate=c.line.candidate,
        label_registration=c.line.candidate if c.label == "ok" else None,
        label=c.label,
        expected_status=c.status,
        pages=pages,
        missing_pages=list(range(1, pages + 1))
        if mark.get("missing_copy")
        else ([mark["missing"]] if "missing" in mark else []),
        duplicated_pages=sorted(
            ([mark["duplicate"]] if "duplicate" in mark else [])
            + (list(range(1, pages + 1)) if mark.get("duplicate_copy") else [])
        ),
        annex_after_page=mark.get("annex_after"),
        defects=defects,
        continues=c.continues,
    )
