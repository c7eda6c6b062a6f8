"""Scanned files in, one SourcePage per scanned page out.

Owner of: reading PDF / TIFF / JPEG / PNG exports safely (hostile input gives a
plain-words reason, never a traceback) and as cheaply as possible (embedded
image streams are taken as they are).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.decoding import (
    MAX_PIXELS,
    MAX_SIDE,
    ImageHeader,
    jpeg_header,
    png_header,
    too_large,
)


@dataclass(frozen=True)
class SourcePage:
    """One page as the scanner produced it, before any analysis."""

    source: str  # "FILE#INDEX": file name (relative, as given) and 0-based page index
    file_sha256: str  # SHA-256 of the whole source file: with the index, identifies the page
    index: int
    data: bytes  # the encoded image, as close to the scanner's bytes as possible
    media_type: str  # "image/jpeg", "image/png", "image/tiff"
    dpi: float | None  # from the file's metadata when present


@dataclass(frozen=True)
class UnreadableSource:
    """A file, or a page in it, that could not be read: kept in the report, never dropped."""

    source: str
    reason: str  # plain words, says what to do


KNOWN_SUFFIXES = {".pdf": "pdf", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg"}
KNOWN_SUFFIXES |= {".jpe": "jpeg", ".png": "png"}
# A scanner export is tens of MB; anything far beyond is a mistake or an attack.
MAX_FILE_BYTES = 4 * 1024**3
# Pages rendered because they are not one scanned image: enough for codes and reading.
RENDER_DPI = 200
EXPORT_AGAIN = "scan the pages again or export them again from the scanner software"
# Editors, downloads and scanners leave these beside real files while writing.
TEMP_NAME = re.compile(r"(^~\$)|(~$)|(\.(tmp|temp|part|crdownload|partial|swp)$)", re.IGNORECASE)


def source_name(name: str, index: int) -> str:
    return f"{name}#{index}"


def sniff(head: bytes) -> str | None:
    """The file's real type from its first bytes: extensions lie, magic numbers rarely do."""
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return None


def iter_source_pages(path: Path, name: str) -> Iterator[SourcePage | UnreadableSource]:
    """Every page of one scanned file, in file order; a page or file that cannot be read
    yields an UnreadableSource saying why and what to do. Never raises."""
    try:
        yield from _iter_pages(Path(path), name)
    except Exception as exc:  # noqa: BLE001 — the last guard: a hostile file must never stop the batch
        yield UnreadableSource(
            source=source_name(name, 0),
            reason=f"the file could not be read ({exc.__class__.__name__}): {EXPORT_AGAIN}",
        )


def _iter_pages(path: Path, name: str) -> Iterator[SourcePage | UnreadableSource]:
    whole = source_name(name, 0)
    suffix = path.suffix.lower()
    if suffix not in KNOWN_SUFFIXES:
        shown = suffix or "no extension"
        yield UnreadableSource(
            whole,
            f"the file type ({shown}) is not a scan export: export the pages as PDF, TIFF, JPEG or PNG",
        )
        return
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield UnreadableSource(whole, f"the file cannot be opened ({exc.strerror}): check it is still there")
        return
    if size == 0:
        yield UnreadableSource(whole, f"the file is empty (0 bytes): {EXPORT_AGAIN}")
        return
    if size > MAX_FILE_BYTES:
        yield UnreadableSource(
            whole, "the file is larger than 4 GB: export the scan in several smaller files"
        )
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield UnreadableSource(whole, f"the file cannot be read ({exc.strerror}): copy it again and retry")
        return
    digest = hashlib.sha256(data).hexdigest()
    kind = sniff(data[:1024])
    if kind is None:
        yield UnreadableSource(
            whole,
            f"the file is not an image or a PDF although its name ends in {suffix}: "
            "check it is the scanner's export, not another document",
        )
        return
    readers = {"pdf": _pdf_pages, "tiff": _tiff_pages, "jpeg": _jpeg_page, "png": _png_page}
    yield from readers[kind](data, digest, name)


def _refusal_for_size(header: ImageHeader, where: str) -> str | None:
    if too_large(header.width, header.height):
        return (
            f"{where} says it is {header.width}×{header.height} pixels, far beyond a scanned page "
            f"(at most {MAX_SIDE} pixels a side, {MAX_PIXELS // 1_000_000} megapixels): "
            "it was not decoded; scan the page again"
        )
    return None


def _jpeg_page(data: bytes, digest: str, name: str) -> Iterator[SourcePage | UnreadableSource]:
    yield _single_image(data, digest, name, "JPEG", jpeg_header(data), "image/jpeg")


def _png_page(data: bytes, digest: str, name: str) -> Iterator[SourcePage | UnreadableSource]:
    yield _single_image(data, digest, name, "PNG", png_header(data), "image/png")


def _single_image(
    data: bytes, digest: str, name: str, kind: str, header: ImageHeader | None, media_type: str
) -> SourcePage | UnreadableSource:
    """A file holding one image, taken as it is once its header says it is whole."""
    src = source_name(name, 0)
    if header is None:
        return UnreadableSource(src, f"the {kind} file is damaged (no readable image header): {EXPORT_AGAIN}")
    if refusal := _refusal_for_size(header, f"the {kind} file"):
        return UnreadableSource(src, refusal)
    if not header.complete:
        return UnreadableSource(src, f"the {kind} file is cut short (incomplete transfer?): {EXPORT_AGAIN}")
    return SourcePage(src, digest, 0, data, media_type, header.dpi)


# ---------------------------------------------------------------- TIFF


def _tiff_pages(data: bytes, digest: str, name: str) -> Iterator[SourcePage | UnreadableSource]:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            image.size  # noqa: B018 — forces the first directory to be parsed
    except Image.DecompressionBombError:
        yield UnreadableSource(
            source_name(name, 0),
            "the TIFF file says its image is far beyond a scanned page: it was not decoded; scan it again",
        )
        return
    except Exception:  # noqa: BLE001 — Pillow raises many types on bad files
        yield UnreadableSource(source_name(name, 0), f"the TIFF file is damaged: {EXPORT_AGAIN}")
        return
    index = 0
    while True:
        yield _tiff_frame(image, index, digest, name)
        index += 1
        try:
            image.seek(index)
        except EOFError:
            return
        except Exception:  # noqa: BLE001
            yield UnreadableSource(
                source_name(name, index),
                f"the TIFF file is damaged after page {index}: the pages before were kept; {EXPORT_AGAIN}",
            )
            return


def _tiff_frame(image, index: int, digest: str, name: str) -> SourcePage | UnreadableSource:
    """One TIFF page as a PNG: lossless, and unlike TIFF a browser shows it."""
    src = source_name(name, index)
    width, height = image.size
    if too_large(width, height):
        return UnreadableSource(
            src,
            f"page {index + 1} of the TIFF file says it is {width}×{height} pixels, far beyond a "
            "scanned page: it was not decoded; scan it again",
        )
    dpi = _pil_dpi(image)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            frame = image if image.mode in ("1", "L") else image.convert("L")
            out = io.BytesIO()
            # Bilevel pages compress well at any level; grayscale ones cost time at high levels.
            frame.save(
                out, "PNG", compress_level=6 if frame.mode == "1" else 1, dpi=(dpi, dpi) if dpi else None
            )
    except Exception:  # noqa: BLE001
        return UnreadableSource(src, f"page {index + 1} of the TIFF file is damaged: {EXPORT_AGAIN}")
    return SourcePage(src, digest, index, out.getvalue(), "image/png", dpi)


def _pil_dpi(image) -> float | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        value = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    return value if 50 <= value <= 2400 else None


# ---------------------------------------------------------------- PDF


def _pdf_pages(data: bytes, digest: str, name: str) -> Iterator[SourcePage | UnreadableSource]:
    import pikepdf

    whole = source_name(name, 0)
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        yield UnreadableSource(whole, "the PDF is password-protected: export it again without a password")
        return
    except Exception:  # noqa: BLE001 — qpdf reports damage with several exception types
        yield UnreadableSource(whole, f"the PDF is damaged and cannot be opened: {EXPORT_AGAIN}")
        return
    with pdf:
        try:
            pages = list(pdf.pages)
        except Exception:  # noqa: BLE001
            yield UnreadableSource(
                whole, f"the PDF is damaged (its page list cannot be read): {EXPORT_AGAIN}"
            )
            return
        if not pages:
            yield UnreadableSource(whole, f"the PDF has no page: {EXPORT_AGAIN}")
            return
        renderer = _Renderer(data)
        try:
            for index, page in enumerate(pages):
                src = source_name(name, index)
                try:
                    yield _pdf_page(page, index, src, digest, renderer)
                except Exception:  # noqa: BLE001 — one damaged page must not hide the others
                    yield UnreadableSource(src, f"page {index + 1} of the PDF is damaged: {EXPORT_AGAIN}")
        finally:
            renderer.close()


def _pdf_page(page, index: int, src: str, digest: str, renderer: _Renderer) -> SourcePage | UnreadableSource:
    if oversized := _oversized_image(page.obj):
        width, height = oversized
        return UnreadableSource(
            src,
            f"page {index + 1} of the PDF holds an image of {width}×{height} pixels, far beyond a "
            "scanned page: it was not decoded; scan it again",
        )
    image = _single_full_page_image(page)
    if image is not None:
        taken = _embedded_image(image, page, index, src, digest)
        if taken is not None:
            return taken
    return renderer.render(index, src, digest, page)


def _oversized_image(holder, depth: int = 0) -> tuple[int, int] | None:
    """The size of any image on the page (forms included) too big to decode, before anything draws it."""
    import pikepdf

    resources = holder.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary) or depth > 8:
        return None
    for _, xobj in xobjects.items():
        if not isinstance(xobj, pikepdf.Stream):
            continue
        if xobj.get("/Subtype") == "/Image":
            width, height = int(xobj.get("/Width", 0)), int(xobj.get("/Height", 0))
            if too_large(width, height):
                return width, height
        elif xobj.get("/Subtype") == "/Form" and (found := _oversized_image(xobj, depth + 1)):
            return found
    return None


def _page_size_pt(page) -> tuple[float, float]:
    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    return abs(x1 - x0), abs(y1 - y0)


def _single_full_page_image(page):
    """The page's image when the page is exactly one image covering it (a scanner's page)."""
    import pikepdf

    resources = page.obj.get("/Resources")
    xobjects = resources.get("/XObject") if resources is not None else None
    if xobjects is None:
        return None
    images = []
    for _, xobj in xobjects.items():
        if not isinstance(xobj, pikepdf.Stream):
            continue
        subtype = xobj.get("/Subtype")
        if subtype == "/Form":
            return None  # drawn content: render it
        if subtype == "/Image":
            images.append(xobj)
    if len(images) != 1:
        return None
    image = images[0]
    width, height = int(image.get("/Width", 0)), int(image.get("/Height", 0))
    page_w, page_h = _page_size_pt(page)
    if width <= 0 or height <= 0 or page_w <= 0 or page_h <= 0:
        return None
    # Same proportions as the page (either way round): the image is the whole page.
    ratio = (width / height) / (page_w / page_h)
    if abs(ratio - 1) > 0.03 and abs(ratio * (page_w / page_h) ** 2 - 1) > 0.03:
        return None
    return image


def _filters(image) -> list[str]:
    import pikepdf

    value = image.get("/Filter")
    if value is None:
        return []
    if isinstance(value, pikepdf.Array):
        return [str(v) for v in value]
    return [str(value)]


def _embedded_image(image, page, index: int, src: str, digest: str) -> SourcePage | UnreadableSource | None:
    """The embedded scan as it is when possible; None means: render the page instead."""
    import pikepdf

    width, height = int(image.Width), int(image.Height)
    if too_large(width, height):
        return UnreadableSource(
            src,
            f"page {index + 1} of the PDF holds an image of {width}×{height} pixels, far beyond a "
            "scanned page: it was not decoded; scan it again",
        )
    page_w, _ = _page_size_pt(page)
    dpi = round(max(width, height) / (max(_page_size_pt(page)) / 72.0), 1) if page_w else None
    filters = _filters(image)
    plain_decode = image.get("/Decode") is None and image.get("/SMask") is None
    if filters == ["/DCTDecode"] and plain_decode:
        data = image.read_raw_bytes()
        header = jpeg_header(data)
        matches = header is not None and (header.width, header.height) == (width, height)
        if matches and header.complete and header.components in (1, 3):
            return SourcePage(src, digest, index, data, "image/jpeg", dpi)
        if header is not None and not header.complete:
            return UnreadableSource(src, f"page {index + 1} of the PDF is cut short: {EXPORT_AGAIN}")
    if filters and filters[-1] in ("/CCITTFaxDecode", "/FlateDecode", "/LZWDecode", "/RunLengthDecode"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pil = pikepdf.PdfImage(image).as_pil_image()
        except Exception:  # noqa: BLE001 — unsupported variant: the renderer may still cope
            return None
        if pil.mode not in ("1", "L"):
            pil = pil.convert("L")
        out = io.BytesIO()
        pil.save(out, "PNG", compress_level=6 if pil.mode == "1" else 1, dpi=(dpi, dpi) if dpi else None)
        return SourcePage(src, digest, index, out.getvalue(), "image/png", dpi)
    return None  # JBIG2, JPEG 2000, inverted or masked images: pdfium draws them right


class _Renderer:
    """pypdfium2, opened once per file and only when a page needs drawing."""

    def __init__(self, data: bytes):
        self._data = data
        self._doc = None

    def render(self, index: int, src: str, digest: str, page) -> SourcePage | UnreadableSource:
        import cv2
        import pypdfium2 as pdfium

        page_w, page_h = _page_size_pt(page)
        scale = RENDER_DPI / 72.0
        if too_large(int(page_w * scale), int(page_h * scale)):
            return UnreadableSource(
                src, f"page {index + 1} of the PDF is far larger than a sheet of paper: scan it again"
            )
        if self._doc is None:
            self._doc = pdfium.PdfDocument(self._data)
        pdf_page = self._doc[index]
        try:
            bitmap = pdf_page.render(scale=scale, grayscale=True)
            pixels = bitmap.to_numpy()
            if pixels.ndim == 3:
                pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY) if pixels.shape[2] >= 3 else pixels[:, :, 0]
        finally:
            pdf_page.close()
        ok, buf = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            return UnreadableSource(src, f"page {index + 1} of the PDF could not be drawn: {EXPORT_AGAIN}")
        return SourcePage(src, digest, index, buf.tobytes(), "image/png", float(RENDER_DPI))

    def close(self) -> None:
        if self._doc is not None:
            self._doc.close()


# ---------------------------------------------------------------- folders


def _natural_key(text: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _skipped(name: str) -> bool:
    return name.startswith(".") or bool(TEMP_NAME.search(name))


def list_input_files(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[UnreadableSource]]:
    """The files to import, folders expanded in natural order (page2 before page10).

    Each file comes with the name it is reported under: a file given directly keeps
    its own name; a file found in a folder is named `FOLDER/relative/path`.
    Paths with `..` or symlinks are refused: an import reads what the operator
    pointed at, nothing outside it.
    """
    files: list[tuple[Path, str]] = []
    refused: list[UnreadableSource] = []
    for given in paths:
        path = Path(given)
        shown = str(given)
        if ".." in path.parts:
            refused.append(
                UnreadableSource(
                    source_name(shown, 0),
                    "the path contains '..': give the folder or file directly, without '..'",
                )
            )
            continue
        if path.is_symlink():
            refused.append(UnreadableSource(source_name(shown, 0), _symlink_reason()))
            continue
        if path.is_dir():
            _walk(path, path.name or shown, files, refused)
        elif path.is_file():
            files.append((path, path.name))
        elif path.exists():
            refused.append(
                UnreadableSource(
                    source_name(shown, 0), "this is not a regular file: give a scan file or folder"
                )
            )
        else:
            refused.append(
                UnreadableSource(source_name(shown, 0), "no such file or folder: check the path and retry")
            )
    return files, refused


def _symlink_reason() -> str:
    return "this is a symbolic link: copy the scan files themselves into the folder and retry"


def _walk(folder: Path, prefix: str, files: list, refused: list) -> None:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: _natural_key(p.name))
    except OSError as exc:
        refused.append(
            UnreadableSource(source_name(prefix, 0), f"the folder cannot be read ({exc.strerror}): check it")
        )
        return
    for entry in entries:
        if _skipped(entry.name):
            continue
        name = f"{prefix}/{entry.name}"
        if entry.is_symlink():
            refused.append(UnreadableSource(source_name(name, 0), _symlink_reason()))
        elif entry.is_dir():
            _walk(entry, name, files, refused)
        elif entry.is_file():
            files.append((entry, name))
