"""Scanner-like files: a grayscale JPEG whose header states the resolution, and a PDF of such
JPEGs embedded as they are (DCTDecode), one per page, as scanner software writes them."""

from __future__ import annotations

import io

import cv2
import numpy as np

JPEG_QUALITY = 75


def encode_jpeg(gray: np.ndarray, dpi: int = 300, quality: int = JPEG_QUALITY) -> bytes:
    """Grayscale (one component) baseline JPEG whose JFIF header states the resolution."""
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the page as JPEG")
    data = bytearray(buf.tobytes())
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
        # OpenCV writes "no unit, 1:1"; scanners write dots per inch, and readers use it.
        data[13] = 1
        data[14:16] = dpi.to_bytes(2, "big")
        data[16:18] = dpi.to_bytes(2, "big")
    return bytes(data)


def add_jpeg_page(pdf, jpeg: bytes, width: int, height: int, dpi: int) -> None:
    """One full page of the pikepdf document showing `jpeg`, its stream embedded untouched."""
    import pikepdf

    image = pikepdf.Stream(pdf, jpeg)
    image.Type = pikepdf.Name.XObject
    image.Subtype = pikepdf.Name.Image
    image.Width, image.Height = width, height
    image.ColorSpace = pikepdf.Name.DeviceGray
    image.BitsPerComponent = 8
    image.Filter = pikepdf.Name.DCTDecode
    w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
    page = pdf.add_blank_page(page_size=(w_pt, h_pt))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(f"q {w_pt:.4f} 0 0 {h_pt:.4f} 0 0 cm /Im0 Do Q".encode())


def pdf_of_jpegs(jpegs: list[bytes], dpi: int = 300) -> bytes:
    """One page per JPEG, drawn full-page, the JPEG stream embedded untouched (DCTDecode)."""
    import pikepdf

    pdf = pikepdf.new()
    for data in jpegs:
        height, width = jpeg_size(data)
        add_jpeg_page(pdf, data, width, height, dpi)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(height, width) from the JPEG's frame header."""
    i = 2
    while i < len(data):
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 5 : i + 7], "big"), int.from_bytes(data[i + 7 : i + 9], "big")
        i += 2 + length
    raise ValueError("no frame header in JPEG")
