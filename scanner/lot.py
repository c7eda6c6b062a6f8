"""The scan lot on disk: a folder the station can lose power in without losing a page.

Layout of a lot folder (one paper, one centre)::

    lot.json        paper code, centre UAI, copy model, a copy of the roll, created (UTC),
                    and a random secret (ids of copies recorded without a booklet: absent/blank)
    journal.jsonl   append-only, one JSON object per line, each written + flushed + fsync'd
                    before the step it records counts as done. THE JOURNAL IS THE TRUTH:
                    the lot's state is rebuilt from it (see `LotState`). Entries (field "t"):
                      received    a source page, after its bytes are durably in originals/
                      unreadable  a file (or a page of it) that could not be read, with the reason
                      file_done   every page of a source file has been received
                      analysed    the analysis of a received page, after its image is in images/
                      decision    an operator decision (who, when, what)
                      roll        the roll was replaced (who, when, the new lines)
                      sealed / unsealed
    originals/      the source pages as received from the scanner, one file per page, named
                    <file sha256>-<index>.<ext>. They stay in the centre: never shipped.
    images/         corrector-facing images (page 1 masked), named by their own SHA-256.
    identity.json   copy id → candidate, for the exam office only (written at seal).
    manifest.json   the seal (scanner/manifest.py), written at seal.
    .lock           held (flock) by the one command changing the lot; freed by the kernel on a crash.

A source page is identified by the SHA-256 of its source file and its index in that file,
never by its own bytes: two blank pages can be byte-identical and are still two pages.
Every replaced file is written atomically (temp file, fsync, rename, fsync of the folder).
A torn last journal line (power cut while writing it) is ignored, kept aside in
`journal.torn-<time>` and reported; the step it recorded is simply done again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from massicot_core.contract import IDENTITY_FILE, MANIFEST_FILE
from massicot_core.errors import UserError
from massicot_core.files import fsync_dir, sha256_bytes, write_atomic
from massicot_core.identifiers import UAI_RE
from massicot_core.roll import RollLine
from scanner.pages import PageAnalysis
from scanner.sources import SourcePage

LOT_FILE = "lot.json"
JOURNAL_FILE = "journal.jsonl"
ORIGINALS_DIR = "originals"
IMAGES_DIR = "images"
LOCK_FILE = ".lock"
LOT_FORMAT = "massicot-scan-lot/1"

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/tiff": "tif", "image/webp": "webp"}


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def page_key(file_sha256: str, index: int) -> str:
    return f"{file_sha256}:{index}"


def extension_for(media_type: str) -> str:
    return EXTENSIONS.get(media_type, "bin")


def content_name(data: bytes, media_type: str) -> tuple[str, str]:
    digest = sha256_bytes(data)
    return f"{digest}.{extension_for(media_type)}", digest


def write_content_addressed(
    folder: Path, data: bytes, media_type: str, *, sync_dir: bool = True, same_as: Path | None = None
) -> tuple[str, str]:
    """Write `data` as folder/<sha256>.<ext> (once); returns (path relative to the lot, sha256).

    `same_as`: a file already holding exactly these bytes (a page's original, when the
    corrector image is the scanner's own bytes): it is hard-linked, not written again.
    """
    name, digest = content_name(data, media_type)
    target = folder / name
    if target.exists() and target.stat().st_size == len(data):
        return f"{folder.name}/{name}", digest
    linked = False
    if same_as is not None:
        tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
        try:
            tmp.unlink(missing_ok=True)
            os.link(same_as, tmp)
            os.replace(tmp, target)
            linked = True
        except OSError:  # a file system without hard links: write the bytes
            tmp.unlink(missing_ok=True)
    if not linked:
        write_atomic(target, data, sync_dir=False)
    if sync_dir:
        fsync_dir(folder)
    return f"{folder.name}/{name}", digest


@dataclass
class LotInfo:
    """lot.json: what the lot is for. Written once at creation; the roll may be replaced."""

    paper: str
    centre: str | None
    roll: list[RollLine]
    created: str
    model: str = "ccyc"
    pages_per_copy: int | None = None  # printed pages per booklet, when the operator gave it
    secret: str = ""  # keys the ids of copies recorded without a booklet (absent, blank)
    format: str = LOT_FORMAT

    def to_json(self) -> bytes:
        body = asdict(self)
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> LotInfo:
        raw = json.loads(data)
        raw["roll"] = [RollLine(**line) for line in raw.get("roll", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass
class PageRecord:
    """A received source page and what has been learnt about it, rebuilt from the journal."""

    key: str
    source: str  # "FILE#INDEX"
    file_sha256: str
    index: int
    sha256: str  # of the source page's bytes as stored in originals/
    media_type: str
    dpi: float | None
    original: str  # path relative to the lot
    order: int  # reception order: the order the pages were scanned in
    analysis: PageAnalysis | None = None
    error: str | None = None  # analysis failed: why
    image: str | None = None
    image_sha256: str | None = None
    image_media_type: str = "image/jpeg"


@dataclass
class UnreadableRecord:
    source: str
    reason: str
    sha256: str  # of the file when it could be read at all, "" otherwise


@dataclass
class Decision:
    """An operator's decision, as journaled. `fields` holds the action's own data."""

    action: str
    by: str
    at: str
    fields: dict
    order: int  # position in the journal: decisions apply in this order


@dataclass
class LotState:
    info: LotInfo
    pages: dict[str, PageRecord] = field(default_factory=dict)
    unreadable: dict[str, UnreadableRecord] = field(default_factory=dict)  # by source
    files_done: dict[str, int] = field(default_factory=dict)  # file sha256 → pages
    decisions: list[Decision] = field(default_factory=list)
    sealed: dict | None = None  # the last "sealed" entry, None when not (or no longer) sealed
    warnings: list[str] = field(default_factory=list)  # damaged journal lines, in plain words

    def pages_in_order(self) -> list[PageRecord]:
        return sorted(self.pages.values(), key=lambda p: p.order)

    def find_source(self, text: str) -> PageRecord:
        """A page by its "FILE#INDEX" name, or by its key (file sha256:index), for the operator."""
        if text in self.pages:
            return self.pages[text]
        matches = [p for p in self.pages.values() if p.source == text]
        if not matches:
            matches = [p for p in self.pages.values() if p.key.startswith(text) and len(text) >= 8]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UserError(f"no page {text!r} in this lot: copy the source as `scan report` shows it")
        raise UserError(f"several pages are named {text!r}: give the page's id instead ({matches[0].key})")


def analysis_to_json(analysis: PageAnalysis) -> dict:
    return asdict(analysis)


def analysis_from_json(raw: dict) -> PageAnalysis:
    known = set(PageAnalysis.__dataclass_fields__)
    return PageAnalysis(**{k: v for k, v in raw.items() if k in known})


class Journal:
    """journal.jsonl: append an entry durably; read every whole entry back."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None

    def read(self) -> tuple[list[dict], list[str]]:
        """Every readable entry in order, and warnings about damaged lines (plain words)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        entries: list[dict] = []
        warnings: list[str] = []
        lines = data.split(b"\n")
        tail = lines.pop()  # after the last newline: empty unless the last write was torn
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict):
                    raise ValueError("not an object")
            except ValueError:
                warnings.append(f"journal line {number} is damaged and was skipped")
                continue
            entries.append(entry)
        if tail.strip():
            warnings.append(
                f"the last journal line ({len(tail)} bytes) is incomplete (cut short by a crash, or still "
                "being written by a running import) and is ignored; the step it records is done again"
            )
        return entries, warnings

    def repair_tail(self) -> None:
        """Before appending: move a torn last line aside, so the next entry starts on a line of its own."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if not data or data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        write_atomic(self.path.with_name(f"journal.torn-{stamp}"), data[keep:])
        with self.path.open("r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())

    def append(self, entry: dict) -> None:
        self.append_many([entry])

    def append_many(self, entries: list[dict]) -> None:
        """Append entries, one line each, in one write and one fsync (a group commit)."""
        if not entries:
            return
        if self._handle is None:
            self._handle = self.path.open("ab")
        lines = b"".join(
            json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for entry in entries
        )
        self._handle.write(lines)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def rebuild_state(info: LotInfo, entries: list[dict], warnings: list[str]) -> LotState:
    """Replay the journal. Entries that repeat what is known (a resumed import) change nothing."""
    state = LotState(info=info, warnings=list(warnings))
    for position, entry in enumerate(entries):
        kind = entry.get("t")
        if kind == "received" and entry["key"] not in state.pages:
            state.pages[entry["key"]] = PageRecord(
                key=entry["key"],
                source=entry["source"],
                file_sha256=entry["file_sha256"],
                index=int(entry["index"]),
                sha256=entry["sha256"],
                media_type=entry["media_type"],
                dpi=entry.get("dpi"),
                original=entry["original"],
                order=len(state.pages),
            )
        elif kind == "analysed" and entry["key"] in state.pages:
            record = state.pages[entry["key"]]
            record.error = entry.get("error")
            if entry.get("analysis"):
                record.analysis = analysis_from_json(entry["analysis"])
            record.image = entry.get("image")
            record.image_sha256 = entry.get("image_sha256")
            record.image_media_type = entry.get("media_type") or "image/jpeg"
        elif kind == "unreadable" and entry["source"] not in state.unreadable:
            state.unreadable[entry["source"]] = UnreadableRecord(
                source=entry["source"], reason=entry["reason"], sha256=entry.get("sha256", "")
            )
        elif kind == "file_done":
            state.files_done[entry["file_sha256"]] = int(entry.get("pages", 0))
        elif kind == "decision":
            fields = {k: v for k, v in entry.items() if k not in ("t", "action", "by", "at")}
            state.decisions.append(
                Decision(
                    action=entry["action"], by=entry["by"], at=entry["at"], fields=fields, order=position
                )
            )
        elif kind == "roll":
            state.info.roll = [RollLine(**line) for line in entry["lines"]]
        elif kind == "sealed":
            state.sealed = entry
        elif kind == "unsealed":
            state.sealed = None
    return state


class Lot:
    """One lot folder. Reading needs nothing; changing it needs `with lot.writing():`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.journal = Journal(folder / JOURNAL_FILE)
        self._lock_fd: int | None = None

    # -- creation and opening -------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path) -> Lot:
        if not (folder / LOT_FILE).is_file():
            raise UserError(f"{folder} is not a scan lot (no {LOT_FILE}): check the folder name")
        return cls(folder)

    @classmethod
    def open_or_create(
        cls,
        folder: Path,
        *,
        paper: str,
        centre: str | None,
        roll: list[RollLine],
        model: str = "ccyc",
        pages_per_copy: int | None = None,
    ) -> Lot:
        """Open the lot in `folder`, or make it. A lot made for another paper is refused."""
        _check_writable(folder)
        lot = cls(folder)
        if (folder / LOT_FILE).is_file():
            info = lot.info()
            if info.paper != paper:
                raise UserError(
                    f"the lot in {folder} is for paper {info.paper}, not {paper}: "
                    "use another --lot folder for this paper"
                )
            if centre and info.centre and centre != info.centre:
                raise UserError(
                    f"the lot in {folder} is for centre {info.centre}, not {centre}: "
                    "use another --lot folder for this centre"
                )
            return lot
        info = LotInfo(
            paper=paper,
            centre=centre,
            roll=roll,
            created=now_utc(),
            model=model,
            pages_per_copy=pages_per_copy,
            secret=secrets.token_hex(16),
        )
        (folder / ORIGINALS_DIR).mkdir(exist_ok=True)
        (folder / IMAGES_DIR).mkdir(exist_ok=True)
        write_atomic(folder / LOT_FILE, info.to_json())
        return lot

    def info(self) -> LotInfo:
        try:
            return LotInfo.from_json((self.folder / LOT_FILE).read_bytes())
        except (ValueError, TypeError, KeyError) as exc:
            raise UserError(
                f"{self.folder / LOT_FILE} is damaged ({exc}): restore it from a backup"
            ) from None

    def state(self) -> LotState:
        entries, warnings = self.journal.read()
        return rebuild_state(self.info(), entries, warnings)

    # -- writing ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[Lot]:
        """Hold the lot's lock: one changing command at a time; a killed holder frees it."""
        _check_writable(self.folder)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(
                f"another massicot command is working on the lot {self.folder}: wait for it to finish"
            ) from None
        self._lock_fd = fd
        try:
            (self.folder / ORIGINALS_DIR).mkdir(exist_ok=True)
            (self.folder / IMAGES_DIR).mkdir(exist_ok=True)
            self.journal.repair_tail()
            self._remove_stale_temp_files()
            yield self
        finally:
            self.journal.close()
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            self._lock_fd = None

    def _remove_stale_temp_files(self) -> None:
        """Half-written temp files of a killed run: never referenced by the journal, safe to drop."""
        for folder in (self.folder, self.folder / ORIGINALS_DIR, self.folder / IMAGES_DIR):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    def append(self, entry: dict) -> None:
        self.append_many([entry])

    def append_many(self, entries: list[dict]) -> None:
        assert self._lock_fd is not None, "journal written without holding the lot's lock"
        self.journal.append_many(entries)

    def store_original(self, page: SourcePage, *, sync_dir: bool = True) -> tuple[str, str]:
        """Write a source page's bytes durably; returns (path relative to the lot, sha256)."""
        name = f"{page.file_sha256}-{page.index:05d}.{extension_for(page.media_type)}"
        target = self.folder / ORIGINALS_DIR / name
        write_atomic(target, page.data, sync_dir=sync_dir)
        return f"{ORIGINALS_DIR}/{name}", sha256_bytes(page.data)

    def sync_folders(self, *, originals: bool = True, images: bool = True) -> None:
        """Make the names of files written with sync_dir=False durable, before the journal names them."""
        if originals:
            fsync_dir(self.folder / ORIGINALS_DIR)
        if images:
            fsync_dir(self.folder / IMAGES_DIR)

    def replace_roll(self, roll: list[RollLine], by: str) -> None:
        info = self.info()
        info.roll = roll
        write_atomic(self.folder / LOT_FILE, info.to_json())
        self.append({"t": "roll", "lines": [asdict(line) for line in roll], "by": by, "at": now_utc()})

    def source_page(self, record: PageRecord) -> SourcePage:
        """The SourcePage of a received page, read back from originals/."""
        return SourcePage(
            source=record.source,
            file_sha256=record.file_sha256,
            index=record.index,
            data=(self.folder / record.original).read_bytes(),
            media_type=record.media_type,
            dpi=record.dpi,
        )

    @property
    def images_dir(self) -> Path:
        return self.folder / IMAGES_DIR

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST_FILE

    @property
    def identity_path(self) -> Path:
        return self.folder / IDENTITY_FILE


def _check_writable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder: choose another --lot")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create the lot folder {folder}: {exc.strerror}; choose another --lot"
        ) from None
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: choose another --lot")
    probe = folder / f".probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        raise UserError(
            f"the lot folder {folder} is not writable: choose another --lot or fix its permissions"
        ) from None


def refuse_if_sealed(state: LotState) -> None:
    if state.sealed:
        raise UserError(
            f"this lot was sealed by {state.sealed.get('by')} at {state.sealed.get('at')}: it cannot change. "
            "If it really must, run `massicot scan unseal DIR --reason ...` first, then seal it again."
        )


def check_centre(centre: str | None) -> str | None:
    if centre is None:
        return None
    centre = centre.strip().upper()
    if not UAI_RE.match(centre):
        raise UserError(f"centre code {centre!r} is not a UAI: 7 digits and a letter, e.g. 0130040Y")
    return centre
