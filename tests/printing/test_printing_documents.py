"""Printed booklets, labels and signing sheets: what is on them, read back by the project's reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from massicot_core.identifiers import CORNERS, new_copy_id
from massicot_core.roll import read_roll
from paper.copy_model import load_model
from paper.printing import booklet_pdf, labels_pdf, registration_text, roll_pdf, title_text
from scanner.codes import read_label, read_page_codes

DPI = 200


def render(pdf: pdfium.PdfDocument, index: int, dpi: int = DPI) -> np.ndarray:
    image = pdf[index].render(scale=dpi / 72, grayscale=True).to_numpy()
    if image.ndim == 3:
        image = image[..., 0]
    return np.ascontiguousarray(image)


def page_text(pdf: pdfium.PdfDocument, index: int) -> str:
    return pdf[index].get_textpage().get_text_range()


def test_booklets_render_at_200_dpi_and_every_page_code_reads(tmp_path: Path):
    model = load_model()
    copy_ids = [new_copy_id() for _ in range(5)]
    out = tmp_path / "booklets.pdf"
    booklet_pdf("U3", copy_ids, 4, out)
    pdf = pdfium.PdfDocument(out)
    assert len(pdf) == 5 * 4
    expected = total = 0
    for index in range(len(pdf)):
        copy_id, page = copy_ids[index // 4], index % 4 + 1
        codes = read_page_codes(render(pdf, index), DPI / 25.4, model)
        expected += 4
        read = {(c.page_code.paper, c.page_code.copy_id, c.page_code.page, c.page_code.corner) for c in codes}
        total += len(read)
        assert read == {("U3", copy_id, page, corner) for corner in CORNERS}
        assert title_text("U3", page, 4, copy_id) in page_text(pdf, index)
    assert total == expected  # 100 % of the page codes


def test_page_codes_sit_in_the_model_corner_boxes(tmp_path: Path):
    model = load_model()
    out = tmp_path / "b.pdf"
    booklet_pdf("U3", [new_copy_id()], 2, out)
    codes = read_page_codes(render(pdf := pdfium.PdfDocument(out), 1), DPI / 25.4, model)
    assert len(pdf) == 2
    for code in codes:
        x, y = (v / (DPI / 25.4) for v in code.centre)
        cx, cy = model.code_centre(code.page_code.corner)
        assert abs(x - cx) < 1 and abs(y - cy) < 1


def test_page_one_has_the_identity_header_and_the_others_do_not(tmp_path: Path):
    out = tmp_path / "b.pdf"
    booklet_pdf("U3", [new_copy_id()], 4, out)
    pdf = pdfium.PdfDocument(out)
    first = page_text(pdf, 0)
    assert "coller l'étiquette ici" in first and "Nom de famille" in first and "Date de naissance" in first
    for index in (1, 2, 3):
        assert "Nom de famille" not in page_text(pdf, index)


def test_odd_page_count_adds_a_blank_filler_so_each_booklet_starts_a_sheet(tmp_path: Path):
    out = tmp_path / "b.pdf"
    ids = [new_copy_id(), new_copy_id()]
    booklet_pdf("U3", ids, 3, out)
    pdf = pdfium.PdfDocument(out)
    assert len(pdf) == 8
    assert page_text(pdf, 3).strip() == ""
    assert render(pdf, 3).min() == 255
    assert ids[1] in page_text(pdf, 4)


def test_labels_follow_the_sheet_layout_and_read_back(tmp_path: Path, roll_csv: Path):
    model = load_model()
    sheet = model.label_sheet
    roll = read_roll(roll_csv) * 9  # more than one sheet: 27 labels on sheets of 24
    roll = [
        type(r)(candidate=f"{r.candidate[:-2]}{i:02d}", name=r.name, present=r.present)
        for i, r in enumerate(roll)
    ]
    out = tmp_path / "labels.pdf"
    labels_pdf("U3", roll, out)
    pdf = pdfium.PdfDocument(out)
    assert len(pdf) == 2
    images = [render(pdf, 0), render(pdf, 1)]
    for index, line in enumerate(roll):
        found = read_label(images[index // sheet.per_sheet], DPI / 25.4, sheet.label_box(index))
        assert [(c.label_code.paper, c.label_code.registration) for c in found] == [("U3", line.candidate)]
        text = page_text(pdf, index // sheet.per_sheet)
        assert registration_text(line.candidate) in text and line.name in text


def test_signing_sheet_lists_every_candidate_and_the_totals_line(tmp_path: Path, roll_csv: Path):
    roll = read_roll(roll_csv)
    out = tmp_path / "roll.pdf"
    roll_pdf("U3", roll, out)
    pdf = pdfium.PdfDocument(out)
    text = "".join(page_text(pdf, i) for i in range(len(pdf)))
    for line in roll:
        assert registration_text(line.candidate) in text and line.name in text
    assert "3 inscrits" in text and "présents" in text and "absents" in text
    assert "Signature" in text


def test_a_long_roll_continues_on_more_sheets_without_losing_anyone(tmp_path: Path):
    from massicot_core.roll import RollLine

    roll = [RollLine(candidate=f"R{i:07d}", name=f"Candidat {i}", present=True) for i in range(55)]
    out = tmp_path / "roll.pdf"
    roll_pdf("U3", roll, out)
    pdf = pdfium.PdfDocument(out)
    assert len(pdf) >= 2
    text = "".join(page_text(pdf, i) for i in range(len(pdf)))
    assert all(registration_text(line.candidate) in text for line in roll)
    assert "55 inscrits" in text
