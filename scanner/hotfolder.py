"""The hot folder: files a scanner's own software (TWAIN on Windows) exports, taken when whole.

A file is taken only when every sign says its writer has finished:
1. its name is not a temporary one (`*.tmp`, `*.part`, `~*`, `.*`, ...): scanner software
   often writes under such a name and renames at the end, which is the best signal of all;
2. its size and modification time have not moved for `settle` seconds;
3. no process on this machine holds it open for writing (Linux: /proc/*/fdinfo);
4. it looks whole: a JPEG ends with its end marker, a PDF with `%%EOF`, a PNG with IEND.
   A writer that closes and reopens the file between chunks passes 1–3 during a pause;
   this check holds it back until the last chunk is there. A file that never looks whole
   is taken anyway after `give_up` seconds so the pipeline reports it, never silently skips it.

watchdog's events only wake the loop early; the folder is also listed every `interval`
seconds, because events get lost on network shares, which is where such folders often are.

Taken files are moved into `FOLDER/.massicot-done/` once every page is durably in the lot,
so a restart does not take them again. A kill between the two steps makes the restart take
the file again: the lot recognises its pages (file SHA-256 + index) and adds nothing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from massicot_core.errors import UserError
from massicot_core.files import fsync_dir

DONE_DIR = ".massicot-done"
SCAN_SUFFIXES = {".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"}
TEMP_SUFFIXES = {".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".lock"}


def is_temporary(name: str) -> bool:
    lowered = name.lower()
    return (
        name.startswith((".", "~"))
        or lowered.endswith("~")
        or any(lowered.endswith(s) for s in TEMP_SUFFIXES)
    )


def is_scan_file(name: str) -> bool:
    return not is_temporary(name) and Path(name).suffix.lower() in SCAN_SUFFIXES


def open_for_writing(path: Path) -> bool:
    """Does any process here hold `path` open for writing? (False where /proc is not there.)"""
    try:
        target = os.stat(path)
    except OSError:
        return False
    proc = Path("/proc")
    if not (proc / "self" / "fdinfo").is_dir():
        return False
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue  # the process ended, or is not ours to look at
        for fd in fds:
            try:
                st = os.stat(fd)
                if (st.st_dev, st.st_ino) != (target.st_dev, target.st_ino):
                    continue
                flags = _fd_flags(pid_dir / "fdinfo" / fd.name)
            except OSError:
                continue
            if flags & (os.O_WRONLY | os.O_RDWR):
                return True
    return False


def _fd_flags(fdinfo: Path) -> int:
    for line in fdinfo.read_text().splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8)
    return 0


def looks_whole(path: Path) -> bool:
    """Does the file end the way its format ends? Unknown formats (TIFF) are given the benefit."""
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size == 0:
            return False
        with path.open("rb") as handle:
            handle.seek(max(0, size - 1024))
            tail = handle.read()
    except OSError:
        return False
    if suffix in {".jpg", ".jpeg"}:
        return tail.rstrip(b"\0\r\n ").endswith(b"\xff\xd9")
    if suffix == ".pdf":
        return b"%%EOF" in tail
    if suffix == ".png":
        return b"IEND" in tail[-16:]
    return True


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time the (size, mtime) pair was first seen
    first: float  # monotonic time the file was first seen at all


class _Wake(FileSystemEventHandler):
    def __init__(self, event: threading.Event):
        self.event = event

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.event.set()


class HotFolder:
    """Yields the scan files of a folder once their writer has finished, each once."""

    def __init__(
        self,
        folder: Path,
        *,
        settle: float = 2.0,
        interval: float = 0.5,
        give_up: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.folder = folder
        self.settle = settle
        self.interval = interval
        self.give_up = give_up
        self.clock = clock
        self._seen: dict[str, _Seen] = {}
        self._wake = threading.Event()
        self._observer = None
        check_folder(folder)

    @property
    def done_dir(self) -> Path:
        return self.folder / DONE_DIR

    def start(self) -> None:
        observer = Observer()
        observer.schedule(_Wake(self._wake), str(self.folder), recursive=False)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def wait(self, timeout: float | None = None) -> None:
        """Sleep until something happens in the folder or `interval` passes."""
        self._wake.wait(self.interval if timeout is None else timeout)
        self._wake.clear()

    def ready(self) -> list[Path]:
        """Files whose writer has finished, oldest first. Call again later for the others."""
        now = self.clock()
        present: set[str] = set()
        ready: list[tuple[int, str, Path]] = []
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            raise UserError(f"the hot folder {self.folder} cannot be read any more: {exc.strerror}") from None
        for entry in entries:
            name = entry.name
            if not is_scan_file(name):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # renamed or removed while we looked
            present.add(name)
            seen = self._seen.get(name)
            if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                first = seen.first if seen else now
                self._seen[name] = _Seen(st.st_size, st.st_mtime_ns, now, first)
                continue
            if st.st_size == 0 or now - seen.since < self.settle:
                continue
            path = Path(entry.path)
            if open_for_writing(path):
                continue
            if not looks_whole(path) and now - seen.first < self.give_up:
                continue
            ready.append((st.st_mtime_ns, name, path))
        for name in list(self._seen):
            if name not in present:
                del self._seen[name]
        return [path for _, _, path in sorted(ready)]

    def mark_done(self, path: Path) -> Path:
        """Move a file whose pages are all in the lot out of the way (never overwriting one)."""
        self.done_dir.mkdir(exist_ok=True)
        target = self.done_dir / path.name
        counter = 1
        while target.exists():
            target = self.done_dir / f"{path.stem}.{counter}{path.suffix}"
            counter += 1
        os.replace(path, target)
        fsync_dir(self.folder)
        fsync_dir(self.done_dir)
        self._seen.pop(path.name, None)
        return target


def check_folder(folder: Path) -> None:
    if not folder.exists():
        raise UserError(
            f"the folder {folder} does not exist: create it, or give the folder the scanner exports to"
        )
    if not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder: give the folder the scanner exports to")
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        raise UserError(
            f"the folder {folder} cannot be read and written by this user: "
            "fix its permissions (taken files are moved into it, under .massicot-done)"
        )
