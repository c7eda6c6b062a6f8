"""Fuzzing the station's file readers: mutated real scans in, pages or plain-words refusals out.

Seeds are real scans from the sample generator (`testkit.samples.generate_session`: a PDF, a
TIFF and JPEGs; one JPEG re-encoded as PNG). Each run mutates a seed (bit flips, overwritten
bytes with boundary values, inserted and deleted runs, truncation, a duplicated block) and
reads it as the station does: `scanner.sources.iter_source_pages`, then
`scanner.decoding.decode_for_analysis` for every page read. Counted:

- crash: an exception escaped the readers (they must turn every hostile file into words);
- hang: one file took longer than `hang_seconds` (an alarm, which the readers cannot catch);
- refusal: an UnreadableSource or UndecodableImage, whose words must be plain (no traceback,
  not empty, not a wall of text).

tests/hostile/test_fuzz_readers.py runs it bounded for CI; bench/fuzz_readers.py runs it longer.
"""

from __future__ import annotations

import io
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = {"pdf": ".pdf", "tiff": ".tif", "jpeg": ".jpg", "png": ".png"}
INTERESTING = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"\xff\xd8",
    b"\xff\xd9",
]


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that no reader's `except Exception` hides it."""


@dataclass
class FuzzReport:
    executions: Counter = field(default_factory=Counter)  # by format
    pages: int = 0
    refusals: int = 0
    crashes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    bad_words: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.executions.values())


def make_seeds(folder: Path, seed: int = 5) -> dict[str, bytes]:
    """One real scan per format, from the sample generator (small: 150 dpi, two copies)."""
    from PIL import Image

    from massicot_core.roll import RollLine
    from testkit.samples.session import generate_session

    scans = folder / "scans"
    generate_session(
        scans,
        "U3",
        [RollLine("CAND001", "One", True), RollLine("CAND002", "Two", True)],
        pages=2,
        dpi=150,
        seed=seed,
        formats=("jpeg", "pdf", "tiff"),
    )
    files = sorted(p for p in scans.rglob("*") if p.is_file())
    seeds: dict[str, bytes] = {}
    for path in files:
        kind = {".pdf": "pdf", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg"}.get(
            path.suffix
        )
        if kind and kind not in seeds:
            seeds[kind] = path.read_bytes()
    out = io.BytesIO()
    Image.open(io.BytesIO(seeds["jpeg"])).save(out, format="PNG")
    seeds["png"] = out.getvalue()
    return seeds


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        at = rng.randrange(len(buf)) if buf else 0
        if kind == 0:  # bit flips
            for _ in range(rng.randint(1, 16)):
                i = rng.randrange(len(buf))
                buf[i] ^= 1 << rng.randrange(8)
        elif kind == 1:  # boundary values (lengths, markers) over the header more often
            at = rng.randrange(min(len(buf), 4096)) if rng.random() < 0.7 else at
            value = rng.choice(INTERESTING)
            buf[at : at + len(value)] = value
        elif kind == 2:  # insert a run
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif kind == 3:  # delete a run
            del buf[at : at + rng.randint(1, 512)]
        elif kind == 4:  # truncate
            del buf[rng.randint(0, len(buf)) :]
        else:  # duplicate a block
            block = bytes(buf[at : at + rng.randint(1, 2048)])
            where = rng.randrange(len(buf) + 1)
            buf[where:where] = block * rng.randint(1, 8)
        if not buf:
            break
    return bytes(buf)


def plain_words(reason: str) -> bool:
    return bool(reason.strip()) and len(reason) < 600 and "Traceback" not in reason and 'File "' not in reason


def read_like_the_station(path: Path, report: FuzzReport) -> None:
    from scanner.decoding import UndecodableImage, decode_for_analysis
    from scanner.sources import SourcePage, iter_source_pages

    for item in iter_source_pages(path, path.name):
        if isinstance(item, SourcePage):
            report.pages += 1
            try:
                decode_for_analysis(item.data, item.media_type, item.dpi)
            except UndecodableImage as exc:
                report.refusals += 1
                if not plain_words(str(exc)):
                    report.bad_words.append(str(exc))
        else:
            report.refusals += 1
            if not plain_words(item.reason):
                report.bad_words.append(item.reason)


def fuzz(
    seeds: dict[str, bytes],
    folder: Path,
    runs_per_format: int,
    seed: int = 0,
    hang_seconds: int = 20,
    budget_seconds: float | None = None,
) -> FuzzReport:
    """Mutate and read; stops early (between files) once `budget_seconds` are spent."""
    report = FuzzReport()
    rng = random.Random(seed)
    start = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)

    def alarm(_signum, _frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        for run in range(runs_per_format):
            for kind, data in seeds.items():
                if budget_seconds is not None and time.monotonic() - start > budget_seconds:
                    return report
                path = folder / f"fuzz-{kind}{SUFFIX[kind]}"
                path.write_bytes(mutate(data, rng))
                report.executions[kind] += 1
                signal.alarm(hang_seconds)
                try:
                    read_like_the_station(path, report)
                except Hang:
                    kept = folder / f"hang-{kind}-{run}{SUFFIX[kind]}"
                    path.rename(kept)
                    report.hangs.append(str(kept))
                except Exception as exc:  # noqa: BLE001 - what the fuzzer counts
                    kept = folder / f"crash-{kind}-{run}{SUFFIX[kind]}"
                    path.rename(kept)
                    report.crashes.append(f"{kept}: {exc.__class__.__name__}: {exc}")
                finally:
                    signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
        report.seconds = time.monotonic() - start
    return report
