"""Where page images live: an object store addressed by the SHA-256 of each image.

One small interface (`ObjectStore`) so the embedded local folder and, later, an
S3-compatible bucket are interchangeable. Uploads arrive in chunks and may be cut
at any byte: chunks are appended to a partial file whose size is the resume point,
and the object appears under its name only once it is complete and its bytes hash
to that name. Nothing half-written can ever be read as a page.

Layout of the local folder:
    objects/ab/cd/<sha256>     complete, verified images (never modified)
    partial/<sha256>.part      uploads in progress (append-only)
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# The interface's names stay importable from here, where callers have always found them.
from correction_server.pages.objects import (  # noqa: F401
    SHA256_RE,
    ChunkResult,
    HashMismatch,
    ObjectStore,
    OffsetMismatch,
    StoreError,
    TooLarge,
    check_sha256,
)
from massicot_core.files import sha256_file

_READ_BLOCK = 1024 * 1024


class LocalStore:
    """Content-addressed folder on a local disk (the embedded default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.partial = self.root / "partial"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.partial.mkdir(parents=True, exist_ok=True)

    def object_path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def _partial_path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.partial / f"{sha256}.part"

    def has(self, sha256: str) -> bool:
        return self.object_path(sha256).is_file()

    def get_shared(self, name: str) -> bytes | None:  # noqa: ARG002 - the derived folder is shared
        return None

    def put_shared(self, name: str, data: bytes) -> None:  # noqa: ARG002 - the derived folder is shared
        return None

    def reachable(self, timeout: float) -> bool:  # noqa: ARG002 - a local disk answers at once or fails
        """Whether the folder takes a new file now (a full disk or a lost mount does not)."""
        try:
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".health-") as probe:
                probe.write(b"ok")
                probe.flush()
        except OSError:
            return False
        return True

    def missing(self, hashes: list[str]) -> list[str]:
        seen: set[str] = set()
        out = []
        for sha in hashes:
            if sha not in seen and not self.has(sha):
                out.append(sha)
            seen.add(sha)
        return out

    def upload_offset(self, sha256: str) -> int:
        if self.has(sha256):
            return self.object_path(sha256).stat().st_size
        try:
            return self._partial_path(sha256).stat().st_size
        except FileNotFoundError:
            return 0

    def open(self, sha256: str) -> BinaryIO:
        return self.object_path(sha256).open("rb")

    def put(self, data: bytes) -> str:
        """Store whole bytes at once (server-side producers, tests)."""
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            self.append_chunk(sha, self.upload_offset(sha), data, len(data))
        return sha

    def append_chunk(self, sha256: str, offset: int, data: bytes, total: int) -> ChunkResult:
        """Append `data` at `offset` of the upload of `sha256` whose full size is `total`.

        Two pushes of the same image may race: an exclusive lock on the partial file
        makes one wait, and it then finds the offset moved (OffsetMismatch) or the
        object already complete.
        """
        final = self.object_path(sha256)
        if final.is_file():
            return ChunkResult(offset=final.stat().st_size, complete=True)
        if offset + len(data) > total:
            raise StoreError(
                f"the chunk ends at byte {offset + len(data)}, beyond the announced size {total}"
            )
        part = self._partial_path(sha256)
        with _locked_append(part) as handle:
            if final.is_file():
                # Completed by a concurrent push while this one waited; drop our empty partial.
                if handle.seek(0, os.SEEK_END) == 0:
                    part.unlink(missing_ok=True)
                return ChunkResult(offset=final.stat().st_size, complete=True)
            held = handle.seek(0, os.SEEK_END)
            if held != offset:
                raise OffsetMismatch(held)
            handle.write(data)
            held += len(data)
            if held < total:
                return ChunkResult(offset=held, complete=False)
            handle.flush()
            # The usual case is one chunk holding the whole image: hash it from memory.
            actual = hashlib.sha256(data).hexdigest() if offset == 0 else sha256_file(part)
            if actual != sha256:
                part.unlink(missing_ok=True)
                raise HashMismatch(sha256, actual)
            final.parent.mkdir(parents=True, exist_ok=True)
            # Rename only after the hash is verified: readers see a whole image or nothing.
            # No fsync here (one per image costs ~10 ms): `make_durable` flushes a lot's
            # images at once before the lot is committed.
            os.replace(part, final)
            return ChunkResult(offset=held, complete=True)

    def make_durable(self, hashes: list[str]) -> list[str]:
        """Check every object again and flush them to disk; returns (and drops) the damaged ones.

        Called before a lot's database commit: an image renamed into place but not yet on
        disk when the power went may come back empty or truncated; it is found here, dropped,
        and asked again, so no committed page can point at damaged bytes.
        """
        damaged = []
        for sha in dict.fromkeys(hashes):
            path = self.object_path(sha)
            try:
                actual = sha256_file(path)
            except FileNotFoundError:
                actual = ""
            if actual != sha:
                path.unlink(missing_ok=True)
                damaged.append(sha)
        _sync_filesystem(self.objects)
        return damaged

    def discard(self, sha256: str) -> int:
        """Delete an object and any partial upload of it; returns the bytes freed.

        Only for an image nothing refers to any more (the purge of abandoned uploads decides,
        under its lock). The partial is removed under its append lock, so an upload of it that
        is writing right now finishes its chunk first, and the next one is told to start over
        at byte 0 instead of writing into a deleted file.
        """
        freed = 0
        part = self._partial_path(sha256)
        if part.exists():
            with _locked_append(part):
                freed += part.stat().st_size
                part.unlink()
        final = self.object_path(sha256)
        try:
            size = final.stat().st_size
            final.unlink()
            freed += size
        except FileNotFoundError:
            pass
        return freed

    def partial_uploads(self) -> list[str]:
        """The images with an upload begun and no object yet."""
        return sorted(p.name.removesuffix(".part") for p in self.partial.glob("*.part"))

    def hashes(self) -> list[str]:
        """Every object's name (the backup lists what it must copy)."""
        return [p.name for p in self.objects.glob("*/*/*") if len(p.name) == 64]


@contextlib.contextmanager
def _locked_append(path: Path) -> Iterator[BinaryIO]:
    """Open `path` for appending under an exclusive lock, on the file that is still at `path`.

    Whoever held the lock before may have renamed the partial into place or dropped it;
    a handle on that old file would write into nothing, so it is reopened.
    """
    while True:
        handle = path.open("ab+")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    try:
        yield handle
    finally:
        handle.close()  # closing releases the lock


def _sync_filesystem(path: Path) -> None:
    """syncfs(2): one flush of the store's file system, far cheaper than an fsync per image."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _libc is not None and _libc.syncfs(fd) == 0:
            return
        os.sync()
    finally:
        os.close(fd)


def _load_libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_libc = _load_libc()


def open_store(location: Path | str) -> ObjectStore:
    """The store named in the settings: a local folder, or an S3 bucket (`s3://bucket/prefix`,
    see correction_server.pages.s3store for the settings it reads)."""
    text = str(location)
    if text.startswith("s3://"):
        from correction_server.pages.s3store import S3Store

        return S3Store.from_url(text)
    return LocalStore(Path(text))
