"""What a station says about copies and pages, checked before anything is stored or changed.

A seal proves that a lot did not change after sealing; it does not prove that what the station
wrote is sane. A broken (or hostile) station could send a skew of 1e308, a page number of
2**70, a media type longer than its column, more "absent" copies than absent candidates, counts
that add up to nothing, bytes that are not an image. Each of these is refused here with 422 and plain
words, at announce (`check_facts`, the manifest alone; the roll is checked by `ingest` against
the server's own data) and when an image is complete or the lot committed (`check_stored`).

Imports: the lot contract, intake.refusals, Pillow.
"""

from __future__ import annotations

import math
import struct
import warnings
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from correction_server.intake.refusals import Invalid
from massicot_core.contract import Manifest

# A booklet of a few sheets, continuation booklets and inserts: far below this.
MAX_PAGE_NUMBER = 1000
MAX_PAGES_PER_COPY = 1000
# A centre's lot for one paper: a few hundred copies; the ceiling guards the counts' sanity.
MAX_COUNT = 100_000
# A station straightens pages it reads: a page skewed more than this was not read.
MAX_SKEW_DEGREES = 45.0
# Pillow's format name for each media type a page may have; the column holds 32 characters.
MEDIA_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF"}
# The room report's sheets may also come as the PDF a scanner's software writes. They are served
# to the office with this type, so nothing else (no HTML, no script) is ever accepted.
DOCUMENT_TYPES = {**MEDIA_TYPES, "application/pdf": "PDF"}
# A page image's sides, in pixels: an A4 page from 50 to 1200 dpi.
MIN_SIDE = 100
MAX_SIDE = 15_000
_SEAL_AGAIN = "; seal the lot again (`massicot scan seal`) after checking the station"


def page_label(copy: str, position: int, number: int | None) -> str:
    return f"copy {copy} page {number}" if number is not None else f"copy {copy} sheet {position} (annex)"


def check_facts(manifest: Manifest) -> None:
    """Counts, statuses and page facts that no sound station writes; Invalid naming the first."""
    counts = manifest.counts
    for name in ("registered", "present", "absent", "blank", "copies", "pages"):
        value = getattr(counts, name)
        if not 0 <= value <= MAX_COUNT:
            raise Invalid(f"the manifest's count of {name} is {value}, which no lot can have" + _SEAL_AGAIN)
    if counts.present + counts.absent != counts.registered:
        raise Invalid(
            f"the manifest's counts do not add up: {counts.present} present and {counts.absent} absent "
            f"but {counts.registered} registered" + _SEAL_AGAIN
        )
    statuses = [copy.status for copy in manifest.copies]
    if statuses.count("blank") != counts.blank:
        raise Invalid(
            f"the manifest's counts say {counts.blank} blank copies but {statuses.count('blank')} copies "
            "are marked blank" + _SEAL_AGAIN
        )
    if statuses.count("absent") > counts.absent:
        raise Invalid(
            f"{statuses.count('absent')} copies are marked absent but the counts say only {counts.absent} "
            "candidates were absent" + _SEAL_AGAIN
        )
    if counts.copies > counts.registered:
        raise Invalid(
            f"the lot has {counts.copies} copies for {counts.registered} registered candidates" + _SEAL_AGAIN
        )
    report = manifest.room_report
    for document in report.documents if report else []:
        if document.media_type not in DOCUMENT_TYPES:
            raise Invalid(
                f"the room report's {document.kind.replace('_', ' ')}: the media type "
                f"{_short(document.media_type)} is not one this server keeps ({', '.join(DOCUMENT_TYPES)})"
                + _SEAL_AGAIN
            )
    # An absent candidate's booklet marked ABSENT is scanned and filed like any other copy
    # (rule 3): an absent copy with pages is sound, so only the number of them is checked.
    for copy in manifest.copies:
        if len(copy.pages) > MAX_PAGES_PER_COPY:
            raise Invalid(f"copy {copy.copy} holds {len(copy.pages)} pages, more than any copy" + _SEAL_AGAIN)
        for position, page in enumerate(copy.pages, start=1):
            label = page_label(copy.copy, position, page.number if _small(page.number) else None)
            if page.number is not None and not 1 <= page.number <= MAX_PAGE_NUMBER:
                raise Invalid(
                    f"copy {copy.copy} sheet {position}: page number {_short(page.number)} is not between 1 "
                    f"and {MAX_PAGE_NUMBER}" + _SEAL_AGAIN
                )
            if not math.isfinite(page.skew_degrees) or abs(page.skew_degrees) > MAX_SKEW_DEGREES:
                raise Invalid(
                    f"{label}: a skew of {_short(page.skew_degrees)}° is not a measured skew (at most "
                    f"{MAX_SKEW_DEGREES:g}° either way)" + _SEAL_AGAIN
                )
            if page.media_type not in MEDIA_TYPES:
                raise Invalid(
                    f"{label}: the media type {_short(page.media_type)!s} is not one this server keeps "
                    f"({', '.join(MEDIA_TYPES)})" + _SEAL_AGAIN
                )


def check_stored(stream: BinaryIO, media_type: str, label: str) -> None:
    """A page image (check_image) or a room sheet, which may also be a PDF."""
    if media_type == "application/pdf":
        if stream.read(5) != b"%PDF-":
            raise Invalid(f"{label}: the file received is not a PDF" + _SEAL_AGAIN)
        return
    check_image(stream, media_type, label)


def check_image(stream: BinaryIO, media_type: str, label: str) -> None:
    """The image's header says a picture of the stated type and a page's size; nothing is decoded.

    Pillow reads the header (`open` is lazy) and walks the file's structure (`verify`: chunks
    and their checksums for PNG, markers for JPEG) without decoding a pixel.
    """
    expected = MEDIA_TYPES.get(media_type)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                found, (width, height) = image.format, image.size
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Invalid(
            f"{label}: the image received is not a readable {media_type} ({_reason(exc)})"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error) as exc:
        raise Invalid(f"{label}: the image received is damaged ({_reason(exc)})") from None
    if found != expected:
        raise Invalid(
            f"{label}: the manifest says {media_type} but the image received is {found or 'unknown'}"
            + _SEAL_AGAIN
        )
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise Invalid(
            f"{label}: the image is {width}×{height} pixels, not the size of a scanned page "
            f"({MIN_SIDE} to {MAX_SIDE} pixels a side)" + _SEAL_AGAIN
        )


def _small(number: int | None) -> bool:
    return number is None or -(10**6) < number < 10**6


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _reason(exc: BaseException) -> str:
    return _short(str(exc) or type(exc).__name__)
