"""The hot folder never takes a half-written file, ignores temporary ones, never takes one twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from scanner.hotfolder import DONE_DIR, HotFolder, is_scan_file, looks_whole, open_for_writing
from testkit.station import journal_entries, report_of, run_cli

pytestmark = pytest.mark.slow
CHUNK = 16 * 1024


def _write_slowly(path: Path, data: bytes, pause: float, reopen: bool) -> None:
    """A scanner's software writing a file in chunks, pausing between them.

    reopen=False keeps the file open all along; reopen=True closes it after every chunk and
    opens it again in append mode (what some export tools do), which only the format check stops.
    """
    if reopen:
        for start in range(0, len(data), CHUNK):
            with path.open("ab") as handle:
                handle.write(data[start : start + CHUNK])
            time.sleep(pause)
        return
    with path.open("wb") as handle:
        for start in range(0, len(data), CHUNK):
            handle.write(data[start : start + CHUNK])
            handle.flush()
            time.sleep(pause)


def _write_then_rename(folder: Path, name: str, data: bytes, pause: float) -> None:
    temp = folder / f"~{name}.tmp"
    _write_slowly(temp, data, pause, reopen=True)
    os.replace(temp, folder / name)


def test_names_scanner_software_uses_for_temporary_files_are_ignored():
    for name in (
        "scan001.tmp",
        "~scan001.pdf",
        ".scan001.pdf",
        "scan001.pdf.part",
        "scan.jpg~",
        "scan.crdownload",
    ):
        assert not is_scan_file(name), name
    for name in ("scan001.pdf", "SCAN002.TIF", "p.jpeg", "x.png", "y.tiff"):
        assert is_scan_file(name), name


def test_a_file_held_open_for_writing_is_seen_as_such(tmp_path):
    path = tmp_path / "a.pdf"
    with path.open("wb") as handle:
        handle.write(b"%PDF-1.4\n")
        handle.flush()
        assert open_for_writing(path)
    assert not open_for_writing(path)
    assert not looks_whole(path)
    path.write_bytes(b"%PDF-1.4\n...\n%%EOF\n")
    assert looks_whole(path)


def test_slow_partial_writers_are_never_taken_half_written(sample_pile, tmp_path):
    """Three writers at once, each pausing longer than the settle time between chunks."""
    folder = tmp_path / "export"
    folder.mkdir()
    pages = sorted(sample_pile.jpeg.glob("*.jpg"))[:6]
    finals = {f"scan{i}.jpg": p.read_bytes() for i, p in enumerate(pages)}
    hot = HotFolder(folder, settle=0.3, interval=0.05)
    writers = []
    for i, (name, data) in enumerate(finals.items()):
        if i % 3 == 0:
            target = lambda n=name, d=data: _write_slowly(folder / n, d, pause=0.5, reopen=False)  # noqa: E731
        elif i % 3 == 1:
            target = lambda n=name, d=data: _write_slowly(folder / n, d, pause=0.5, reopen=True)  # noqa: E731
        else:
            target = lambda n=name, d=data: _write_then_rename(folder, n, d, pause=0.2)  # noqa: E731
        writers.append(threading.Thread(target=target))
    (folder / "notes.txt").write_text("not a scan")
    (folder / "~lock.tmp").write_bytes(b"x")
    for writer in writers:
        writer.start()
    taken: list[str] = []
    deadline = time.monotonic() + 120
    while len(taken) < len(finals) and time.monotonic() < deadline:
        for path in hot.ready():
            data = path.read_bytes()
            assert data == finals[path.name], f"{path.name} taken half written ({len(data)} bytes)"
            hot.mark_done(path)
            taken.append(path.name)
        time.sleep(0.05)
    for writer in writers:
        writer.join()
    assert sorted(taken) == sorted(finals)
    assert sorted(p.name for p in (folder / DONE_DIR).iterdir()) == sorted(finals)
    assert hot.ready() == []  # the temporary and foreign files stay where they are
    assert (folder / "notes.txt").exists() and (folder / "~lock.tmp").exists()


def test_watch_command_takes_files_through_the_import_path_once(sample_pile, tmp_path):
    """`massicot scan watch` with a slow writer; killed and started again it takes nothing twice."""
    folder = tmp_path / "export"
    folder.mkdir()
    lot = tmp_path / "lot"
    pages = sorted(sample_pile.jpeg.glob("*.jpg"))
    first, second = pages[:12], pages[12:]
    args = [
        "scan",
        "watch",
        str(folder),
        "--paper",
        "U3",
        "--roll",
        str(sample_pile.roll),
        "--lot",
        str(lot),
        "--settle",
        "0.3",
    ]
    command = [str(Path(sys.executable).with_name("massicot")), *args, "--until-idle", "4"]
    watcher = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for page in first:
        _write_slowly(
            folder / page.name, page.read_bytes(), pause=0.05, reopen=page.stem.endswith(("1", "3"))
        )
    out, err = watcher.communicate(timeout=300)
    assert watcher.returncode == 0, out + err
    assert len(journal_entries(lot, "received")) == len(first)

    # a file already taken coming back (the software exports it again) adds nothing
    shutil.copy(first[0], folder / first[0].name)
    for page in second:
        shutil.copy(page, folder / f".{page.name}.tmp")
        os.replace(folder / f".{page.name}.tmp", folder / page.name)
    done = run_cli(*args, "--until-idle", "2", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    received = journal_entries(lot, "received")
    assert len(received) == len(pages)
    assert max(Counter(e["key"] for e in received).values()) == 1
    assert not [p for p in folder.iterdir() if p.name != DONE_DIR]
    imported = tmp_path / "imported"
    done = run_cli(
        "scan",
        "import",
        str(sample_pile.jpeg),
        "--paper",
        "U3",
        "--roll",
        str(sample_pile.roll),
        "--lot",
        str(imported),
        "--quiet",
        "--workers",
        "1",
    )
    assert done.returncode == 0
    watched, reference = report_of(lot), report_of(imported)
    placed = lambda r: sorted((c["copy"], str(p["number"])) for c in r["copies"] for p in c["pages"])  # noqa: E731
    assert placed(watched) == placed(reference)
    assert sorted(a["kind"] for a in watched["anomalies"]) == sorted(
        a["kind"] for a in reference["anomalies"]
    )


def test_watch_refuses_a_missing_folder_in_plain_words(sample_pile, tmp_path):
    done = run_cli(
        "scan",
        "watch",
        str(tmp_path / "nowhere"),
        "--paper",
        "U3",
        "--roll",
        str(sample_pile.roll),
        "--lot",
        str(tmp_path / "lot"),
        "--until-idle",
        "1",
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_watch_folder_that_cannot_be_written_is_refused(sample_pile, tmp_path):
    from testkit.tmpfs import tmpfs

    with tmpfs(tmp_path / "ro", "1m", readonly=True) as folder:
        done = run_cli(
            "scan",
            "watch",
            str(folder),
            "--paper",
            "U3",
            "--roll",
            str(sample_pile.roll),
            "--lot",
            str(tmp_path / "lot"),
            "--until-idle",
            "1",
        )
    assert done.returncode == 2
    assert "cannot be read and written" in done.stderr and "Traceback" not in done.stderr


def test_watch_with_a_full_disk_keeps_what_was_taken_and_finishes_after(sample_pile, tmp_path):
    from testkit.tmpfs import remount, tmpfs

    folder = tmp_path / "export"
    folder.mkdir()
    pages = sorted(sample_pile.jpeg.glob("*.jpg"))[:14]
    for page in pages:
        shutil.copy(page, folder / page.name)
    args = ["scan", "watch", str(folder), "--paper", "U3", "--roll", str(sample_pile.roll), "--settle", "0.2"]
    with tmpfs(tmp_path / "disk", "1200k") as disk:
        lot = disk / "lot"
        done = run_cli(*args, "--lot", str(lot), "--until-idle", "2")
        assert done.returncode == 2, done.stdout + done.stderr
        assert "is full" in done.stderr and "Traceback" not in done.stdout + done.stderr
        kept = journal_entries(lot, "received")
        assert 0 < len(kept) < len(pages)
        left = sorted(p.name for p in folder.iterdir() if p.name != DONE_DIR)
        assert left, "every file was moved although the lot could not hold them"
        remount(disk, "64m")
        done = run_cli(*args, "--lot", str(lot), "--until-idle", "2", "--quiet")
        assert done.returncode == 0, done.stdout + done.stderr
        received = journal_entries(lot, "received")
        assert sorted(e["source"] for e in received) == sorted(p.name + "#0" for p in pages)
        assert max(Counter(e["key"] for e in received).values()) == 1
        assert report_of(lot)["blocking"] == []
        from scanner.lot import Lot

        errors = [r.error for r in Lot.open(lot).state().pages.values() if r.analysis is None]
        assert errors == [], "a page's analysis was lost to the full disk"
