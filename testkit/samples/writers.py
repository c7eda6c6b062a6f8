"""The scan files of a generated session: a folder of JPEGs, a scanner-like PDF, a bilevel TIFF."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from testkit.scan_files import add_jpeg_page

FORMATS: tuple[str, ...] = ("jpeg", "pdf", "tiff")


class ScanWriters:
    """Writes each scanned page, in scan order, in every format asked for."""

    def __init__(self, out_dir: Path, formats: tuple[str, ...], dpi: int):
        self.out_dir = out_dir
        self.formats = formats
        self.dpi = dpi
        self.files: dict[str, str] = {}  # format → file or folder written
        self._pdf = self._tiff = None
        if "jpeg" in formats:
            (out_dir / "jpeg").mkdir(parents=True, exist_ok=True)
            self.files["jpeg"] = "jpeg"
        if "pdf" in formats:
            import pikepdf

            self._pdf = pikepdf.new()
            self.files["pdf"] = "scan.pdf"
        if "tiff" in formats:
            from PIL import TiffImagePlugin

            self._tiff = TiffImagePlugin.AppendingTiffWriter(str(out_dir / "scan.tif"), True)
            self._tiff.__enter__()
            self.files["tiff"] = "scan.tif"

    def add(self, position: int, gray: np.ndarray, jpeg: bytes) -> list[str]:
        sources = []
        if "jpeg" in self.formats:
            name = f"jpeg/{position + 1:04d}.jpg"
            (self.out_dir / name).write_bytes(jpeg)
            sources.append(f"{name}#0")
        if self._pdf is not None:
            height, width = gray.shape[:2]
            add_jpeg_page(self._pdf, jpeg, width, height, self.dpi)
            sources.append(f"scan.pdf#{position}")
        if self._tiff is not None:
            from PIL import Image

            # Bilevel as a scanner's "black and white" mode makes it: a fixed threshold.
            image = Image.fromarray(gray > 150)
            image.save(self._tiff, compression="group4", dpi=(self.dpi, self.dpi))
            self._tiff.newFrame()
            sources.append(f"scan.tif#{position}")
        return sources

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.save(self.out_dir / "scan.pdf")
        if self._tiff is not None:
            self._tiff.__exit__(None, None, None)
