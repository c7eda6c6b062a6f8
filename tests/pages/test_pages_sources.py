"""Reading scanner exports: every format, and every kind of hostile file, never a traceback."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from scanner.pages import process_page
from scanner.sources import SourcePage, UnreadableSource, iter_source_pages, list_input_files
from testkit.drawn_pages import DrawnPage
from testkit.scan_files import pdf_of_jpegs

COPY_ID = "23456789Z"


def pages_of(path: Path, name: str | None = None) -> list:
    return list(iter_source_pages(path, name or path.name))


def only_unreadable(path: Path) -> UnreadableSource:
    items = pages_of(path)
    assert len(items) == 1, items
    assert isinstance(items[0], UnreadableSource), items
    assert "Traceback" not in items[0].reason
    return items[0]


def spec(number: int) -> DrawnPage:
    return DrawnPage(
        copy_id=COPY_ID, number=number, registration="AB12345" if number == 1 else None, seed=number
    )


@pytest.fixture(scope="module")
def four_jpegs(jpeg_scan):
    return [jpeg_scan(spec(n)) for n in (1, 2, 3, 4)]


def bilevel(gray: np.ndarray) -> Image.Image:
    return Image.fromarray(np.where(gray > 150, 255, 0).astype(np.uint8)).convert("1")


# ---------------------------------------------------------------- formats


def test_pdf_with_jpeg_pages_gives_the_embedded_streams_untouched(tmp_path, four_jpegs, model):
    path = tmp_path / "lot1.pdf"
    path.write_bytes(pdf_of_jpegs(four_jpegs))
    items = pages_of(path, "scans/lot1.pdf")
    assert [type(i) for i in items] == [SourcePage] * 4
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for index, (item, jpeg) in enumerate(zip(items, four_jpegs, strict=True)):
        assert item.source == f"scans/lot1.pdf#{index}"
        assert item.index == index
        assert item.file_sha256 == digest
        assert item.data == jpeg  # not re-encoded
        assert item.media_type == "image/jpeg"
        assert item.dpi == pytest.approx(300, abs=1)
    assert [process_page(i, model).analysis.number for i in items] == [1, 2, 3, 4]


def test_pdf_with_ccitt_group4_pages(tmp_path, gray_scan, model):
    frames = [bilevel(gray_scan(spec(n))) for n in (2, 3)]
    path = tmp_path / "g4.pdf"
    frames[0].save(path, "PDF", resolution=300, save_all=True, append_images=frames[1:])
    with pikepdf.open(path) as pdf:
        filters = {
            str(xobj.get("/Filter")) for page in pdf.pages for _, xobj in page.Resources.XObject.items()
        }
    assert any("/CCITTFaxDecode" in f for f in filters)
    items = pages_of(path)
    assert [type(i) for i in items] == [SourcePage] * 2
    assert items[0].media_type == "image/png"
    back = cv2.imdecode(np.frombuffer(items[0].data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(back > 127, np.array(frames[0]))  # lossless
    assert [process_page(i, model).analysis.number for i in items] == [2, 3]


def _vector_page_pdf(path: Path, model, number: int) -> None:
    """A page drawn with vector operators (as a PDF printer driver or a virtual scanner writes)."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from massicot_core.identifiers import CORNERS, PageCode
    from testkit.drawn_pages import qr_matrix

    width, height = model.page_mm
    canvas = Canvas(str(path), pagesize=(width * mm, height * mm))
    for corner in CORNERS:
        matrix = qr_matrix(PageCode("U3", COPY_ID, number, corner).payload())
        x, y, w, _ = model.codes[corner]
        module = w / len(matrix)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    canvas.rect(
                        (x + c * module) * mm,
                        (height - y - (r + 1) * module) * mm,
                        module * mm,
                        module * mm,
                        stroke=0,
                        fill=1,
                    )
    canvas.drawString(40 * mm, 250 * mm, "une réponse écrite au clavier")
    canvas.showPage()
    canvas.save()


def test_pdf_page_that_is_not_one_image_is_rendered(tmp_path, model):
    path = tmp_path / "typed.pdf"
    _vector_page_pdf(path, model, 3)
    items = pages_of(path)
    assert len(items) == 1 and isinstance(items[0], SourcePage)
    assert items[0].media_type == "image/png"
    result = process_page(items[0], model)
    assert (result.analysis.copy_id, result.analysis.number, result.analysis.rotation) == (COPY_ID, 3, 0)


@pytest.mark.parametrize("compression", ["group4", "tiff_lzw", "jpeg"])
def test_multipage_tiff(tmp_path, gray_scan, model, compression):
    grays = [gray_scan(spec(n), rotation=r) for n, r in ((2, 0), (3, 180), (4, 0))]
    frames = [bilevel(g) if compression == "group4" else Image.fromarray(g) for g in grays]
    path = tmp_path / f"scan_{compression}.tif"
    frames[0].save(path, compression=compression, save_all=True, append_images=frames[1:], dpi=(300, 300))
    items = pages_of(path)
    assert [type(i) for i in items] == [SourcePage] * 3
    assert [i.index for i in items] == [0, 1, 2]
    assert all(i.media_type == "image/png" and i.dpi == pytest.approx(300) for i in items)
    analyses = [process_page(i, model).analysis for i in items]
    assert [(a.number, a.rotation) for a in analyses] == [(2, 0), (3, 180), (4, 0)]
    if compression != "jpeg":  # lossless formats stay pixel-identical
        back = cv2.imdecode(np.frombuffer(items[1].data, np.uint8), cv2.IMREAD_GRAYSCALE)
        expected = np.array(frames[1].convert("L"))
        assert np.array_equal(back, expected)


def test_jpeg_file(tmp_path, jpeg_scan):
    data = jpeg_scan(spec(2))
    path = tmp_path / "page.JPG"
    path.write_bytes(data)
    (item,) = pages_of(path)
    assert isinstance(item, SourcePage)
    assert item.data == data and item.media_type == "image/jpeg" and item.dpi == 300
    assert item.file_sha256 == hashlib.sha256(data).hexdigest()


def test_png_file(tmp_path, gray_scan, model):
    path = tmp_path / "page.png"
    Image.fromarray(gray_scan(spec(4))).save(path, dpi=(300, 300))
    (item,) = pages_of(path)
    assert isinstance(item, SourcePage) and item.media_type == "image/png"
    assert item.dpi == pytest.approx(300, abs=0.5)
    assert process_page(item, model).analysis.number == 4


# ---------------------------------------------------------------- hostile input


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert "empty" in only_unreadable(path).reason


@pytest.mark.parametrize("suffix", [".pdf", ".jpg", ".tif", ".png"])
def test_not_an_image_at_all(tmp_path, suffix):
    path = tmp_path / f"notes{suffix}"
    path.write_text("Liste des candidats absents\n" * 20)
    item = only_unreadable(path)
    assert "not an image" in item.reason and item.source == f"notes{suffix}#0"


def test_unknown_extension(tmp_path, jpeg_scan):
    path = tmp_path / "scan.docx"
    path.write_bytes(jpeg_scan(spec(2)))
    assert "export the pages as PDF, TIFF, JPEG or PNG" in only_unreadable(path).reason


def test_password_protected_pdf(tmp_path, four_jpegs):
    plain = pikepdf.open(io.BytesIO(pdf_of_jpegs(four_jpegs[:1])))
    path = tmp_path / "locked.pdf"
    plain.save(path, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    assert only_unreadable(path).reason == "the PDF is password-protected: export it again without a password"


def test_corrupt_pdf(tmp_path):
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(5000))
    assert "PDF" in only_unreadable(path).reason


def test_truncated_pdf_loses_nothing_silently(tmp_path, four_jpegs):
    data = pdf_of_jpegs(four_jpegs)
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) * 6 // 10])
    items = pages_of(path)
    good = [i for i in items if isinstance(i, SourcePage)]
    bad = [i for i in items if isinstance(i, UnreadableSource)]
    assert bad, "a cut PDF must be reported"
    for item in good:  # what is kept is whole
        assert item.data == four_jpegs[item.index]


def test_truncated_jpeg(tmp_path, jpeg_scan):
    data = jpeg_scan(spec(2))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert "cut short" in only_unreadable(path).reason


def test_corrupt_jpeg_header(tmp_path, jpeg_scan):
    data = bytearray(jpeg_scan(spec(2)))
    data[20:300] = os.urandom(280)
    path = tmp_path / "bad.jpg"
    path.write_bytes(bytes(data))
    assert "damaged" in only_unreadable(path).reason


def test_truncated_tiff(tmp_path, gray_scan):
    frames = [Image.fromarray(gray_scan(spec(n))) for n in (2, 3)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", compression="tiff_lzw", save_all=True, append_images=frames[1:])
    path = tmp_path / "cut.tif"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    items = pages_of(path)
    assert any(isinstance(i, UnreadableSource) for i in items)


def _jpeg_claiming(width: int, height: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((16, 16), 200, np.uint8))
    data = bytearray(buf.tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    data[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def test_jpeg_decompression_bomb_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.jpg"
    path.write_bytes(_jpeg_claiming(65000, 65000))
    reason = only_unreadable(path).reason
    assert "65000×65000" in reason and "not decoded" in reason


def test_png_decompression_bomb(tmp_path):
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    assert "100000×100000" in only_unreadable(path).reason


def test_pdf_image_bomb(tmp_path):
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, _jpeg_claiming(16, 16))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height = 100_000, 100_000
    image.ColorSpace, image.BitsPerComponent, image.Filter = (
        pikepdf.Name.DeviceGray,
        8,
        pikepdf.Name.DCTDecode,
    )
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    path = tmp_path / "bomb.pdf"
    pdf.save(path)
    assert "100000×100000" in only_unreadable(path).reason


def test_tiff_bomb(tmp_path):
    buf = io.BytesIO()
    Image.new("1", (64, 64), 1).save(buf, "TIFF", compression="group4")
    data = bytearray(buf.getvalue())
    # Rewrite ImageWidth/ImageLength (tags 256/257) in the first directory.
    ifd = int.from_bytes(data[4:8], "little")
    count = int.from_bytes(data[ifd : ifd + 2], "little")
    for k in range(count):
        entry = ifd + 2 + 12 * k
        tag = int.from_bytes(data[entry : entry + 2], "little")
        if tag in (256, 257):
            data[entry + 2 : entry + 4] = (4).to_bytes(2, "little")  # LONG
            data[entry + 8 : entry + 12] = (90_000).to_bytes(4, "little")
    path = tmp_path / "bomb.tif"
    path.write_bytes(bytes(data))
    item = only_unreadable(path)
    assert "far beyond" in item.reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(max_size=3000),
    st.sampled_from([".pdf", ".jpg", ".tif", ".png"]),
    st.sampled_from([b"", b"%PDF-1.4\n", b"\xff\xd8\xff\xe0", b"II*\x00", b"\x89PNG\r\n\x1a\n"]),
)
def test_random_bytes_never_raise(tmp_path, body, suffix, magic):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(magic + body)
    items = pages_of(path)
    assert items and all(isinstance(i, SourcePage | UnreadableSource) for i in items)


# ---------------------------------------------------------------- folders


def test_folder_listing_natural_order_skips_hidden_and_temp(tmp_path):
    folder = tmp_path / "soir"
    (folder / "salle 2").mkdir(parents=True)
    for name in ["page10.jpg", "page2.jpg", "page1.jpg", ".DS_Store", "~$scan.pdf", "scan.pdf.part", "x.tmp"]:
        (folder / name).write_bytes(b"x")
    (folder / "salle 2" / "a.pdf").write_bytes(b"x")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "hidden.jpg").write_bytes(b"x")
    files, refused = list_input_files([folder])
    assert [name for _, name in files] == [
        "soir/page1.jpg",
        "soir/page2.jpg",
        "soir/page10.jpg",
        "soir/salle 2/a.pdf",
    ]
    assert refused == []


def test_dotdot_and_symlinks_refused(tmp_path):
    real = tmp_path / "real.jpg"
    real.write_bytes(b"x")
    link = tmp_path / "link.jpg"
    link.symlink_to(real)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "inner_link.jpg").symlink_to(real)
    files, refused = list_input_files(
        [tmp_path / "in" / ".." / "real.jpg", link, folder, tmp_path / "missing.pdf"]
    )
    assert files == []
    reasons = {r.source: r.reason for r in refused}
    assert len(refused) == 4
    assert any("'..'" in r for r in reasons.values())
    assert sum("symbolic link" in r for r in reasons.values()) == 2
    assert any("no such file" in r for r in reasons.values())
