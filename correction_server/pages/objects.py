"""What every page store is: the `ObjectStore` interface, its answers and its refusals.

The local folder (pages.store) and the S3 bucket (pages.s3store) both implement it; this
module imports neither, so the two can import it without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO, Protocol

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class StoreError(Exception):
    """Base of the store's refusals; each carries plain words."""


class OffsetMismatch(StoreError):
    """The chunk does not start where the partial upload ends (a resend, or a lost chunk)."""

    def __init__(self, expected: int) -> None:
        super().__init__(f"the upload continues at byte {expected}")
        self.expected = expected


class HashMismatch(StoreError):
    """The complete upload does not hash to its name: it was damaged; the partial is dropped."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"bytes received hash to {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


class TooLarge(StoreError):
    pass


@dataclass(frozen=True)
class ChunkResult:
    offset: int  # bytes held for this object after the chunk (the resume point)
    complete: bool  # the object is now stored and verified


class ObjectStore(Protocol):
    def has(self, sha256: str) -> bool: ...

    def missing(self, hashes: list[str]) -> list[str]: ...

    def upload_offset(self, sha256: str) -> int: ...

    def append_chunk(self, sha256: str, offset: int, data: bytes, total: int) -> ChunkResult: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def make_durable(self, hashes: list[str]) -> list[str]: ...

    def discard(self, sha256: str) -> int: ...

    def partial_uploads(self) -> list[str]: ...

    def hashes(self) -> list[str]: ...

    # Whether the store answers now, within about `timeout` seconds (the health check's).
    def reachable(self, timeout: float) -> bool: ...

    # Display images shared by every host (correction_server.pages.images): not content-addressed,
    # but a derivative's name fixes its bytes, so any host's copy is as good as another's. A
    # local folder shares them by itself (every process reads the same derived folder): there
    # both are no-ops.
    def get_shared(self, name: str) -> bytes | None: ...

    def put_shared(self, name: str, data: bytes) -> None: ...


def check_sha256(value: str) -> str:
    if not SHA256_RE.match(value):
        raise ValueError(f"{value!r} is not a SHA-256 in lowercase hexadecimal (64 characters)")
    return value
