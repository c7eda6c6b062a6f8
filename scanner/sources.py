"""Scanned files in, one SourcePage per scanned page out.

Owner of: reading PDF / TIFF / JPEG / PNG exports safely (hostile input gives a
plain-words reason, never a traceback) and as cheaply as possible (embedded
image streams are taken as they are).
"""

from __future__ import annotations

from dataclasses import dataclass


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
