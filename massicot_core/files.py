"""Files written so that a crash or a full disk never leaves half of one, and their SHA-256.

- `write_atomic`: durable replacement (temp file, fsync, rename, fsync of the folder), for what
  must survive a power cut (the station's lot files).
- `replace_atomically`: rename without fsync, for files that can be made again (display images):
  two processes making the same file never serve half of it.
- `atomic_output`: a temporary path for a tool that writes a file itself (a PDF, a CSV the user
  named), renamed only if the work succeeds; problems come back as plain words.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from massicot_core.errors import UserError

_READ_BLOCK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file, whole.

    sync_dir=False leaves the folder's fsync to the caller, who then syncs once for a batch
    of files before anything names them.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    if sync_dir:
        fsync_dir(path.parent)


def replace_atomically(path: Path, data: bytes, suffix: str = ".part") -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """A temporary path beside `out`, renamed to `out` only if the block succeeds."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    try:
        if out.is_dir():
            raise UserError(f"{out} is a folder: give a file name such as {out / 'booklets.pdf'}")
        if not folder.exists():
            raise UserError(f"the folder {folder} does not exist: create it or choose another --out")
        if not folder.is_dir():
            raise UserError(f"{folder} is not a folder: choose another --out")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name[:100]}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise UserError(f"cannot write in {folder}: {exc.strerror}; choose another --out") from None
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private; a file the user asked for gets the usual permissions.
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}; choose another --out") from None
    finally:
        tmp.unlink(missing_ok=True)
