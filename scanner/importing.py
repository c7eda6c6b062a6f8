"""Import orchestration: files → source pages → journal → analysis (worker processes) → lot.

Order of durability, for every page (so that kill -9 at any instant loses nothing):
  1. the page's bytes are written to originals/ (temp file, fsync, rename);
  2. a `received` journal entry is appended (fsync) — from here the page is the lot's;
  3. a worker analyses it and writes its corrector-facing image to images/ (atomic);
  4. an `analysed` journal entry is appended, in reception order.
A rerun skips the files whose every page was received (`file_done`), skips pages already
received, and analyses the received pages that have no `analysed` entry yet. Reception
order is the scan order grouping relies on, so a resumed run gives the same lot.

`Importer` is also what the SANE station and the hot-folder watcher feed, page by page.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from massicot_core.errors import UserError
from massicot_core.files import sha256_file
from scanner.decoding import prepare_analysis_process
from scanner.lot import (
    Lot,
    LotState,
    PageRecord,
    UnreadableRecord,
    analysis_from_json,
    analysis_to_json,
    check_centre,
    now_utc,
    page_key,
    refuse_if_sealed,
    write_content_addressed,
)
from scanner.pages import PageAnalysis
from scanner.sources import SourcePage, UnreadableSource

# glibc hands big buffers back to the kernel after every page and faults them in again
# (measured: decode time doubles); the scan workers keep them instead.
CRASHED = "the analysis of this page crashed: scan the sheet again, then discard this one"
# Pages received per journal commit during a file import (a SANE feeder commits each page).
RECEIVE_BATCH = 8
GLIBC_TUNABLES = "glibc.malloc.mmap_threshold=134217728:glibc.malloc.trim_threshold=268435456"
DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@dataclass(frozen=True)
class AnalysisTask:
    lot_folder: str
    key: str
    source: str
    original: str
    file_sha256: str
    index: int
    media_type: str
    dpi: float | None
    paper: str
    model: str


@dataclass
class ImportProgress:
    """What the live display shows; updated as pages come and go."""

    received: int = 0  # pages received in this run
    analysed: int = 0  # pages analysed in this run
    to_check: int = 0  # pages that already look wrong (anomalies so far)
    skipped: int = 0  # pages already in the lot (re-import, resume)
    unreadable: int = 0  # files or pages that could not be read
    started: float = field(default_factory=time.monotonic)
    last: PageAnalysis | None = None

    @property
    def pages_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.analysed / elapsed if elapsed > 0 else 0.0


def _model(name: str):
    from paper.copy_model import load_model

    return load_model(name)


def analyse_task(task: AnalysisTask) -> dict:
    """Runs in a worker: analyse one received page, store its image, return the journal entry.

    An OSError reading the original or writing the image (a full disk, a failing drive) is not
    the page's fault: it is raised, the import stops, and the page waits, unanalysed, for the
    next run. Anything else going wrong with the page is its journal entry's error."""
    from scanner.pages import process_page

    folder = Path(task.lot_folder)
    data = (folder / task.original).read_bytes()
    try:
        page = SourcePage(
            source=task.source,
            file_sha256=task.file_sha256,
            index=task.index,
            data=data,
            media_type=task.media_type,
            dpi=task.dpi,
        )
        processed = process_page(page, _model(task.model), task.paper)
    except Exception as exc:  # noqa: BLE001 — one bad page must not stop the batch: it is reported
        return {"t": "analysed", "key": task.key, "error": f"the page could not be analysed ({exc})"}
    entry = {"t": "analysed", "key": task.key, "analysis": analysis_to_json(processed.analysis)}
    if processed.unreadable:
        entry["error"] = f"the page could not be read: {processed.unreadable}"
    if processed.image is not None:
        # The main process syncs the folder once for a batch, before the journal names the image.
        same = folder / task.original if processed.image == page.data else None
        image, digest = write_content_addressed(
            folder / "images", processed.image, processed.media_type, sync_dir=False, same_as=same
        )
        entry |= {"image": image, "image_sha256": digest, "media_type": processed.media_type}
    return entry


def open_lot(
    folder: Path,
    paper: str,
    roll: Path,
    centre: str | None = None,
    pages_per_copy: int | None = None,
    by: str | None = None,
) -> Lot:
    """The lot folder for this paper, made on first use; what `scan import`, `scan sane` and
    `scan watch` all open.

    Bad input (paper code, roll, folder, a sealed lot) is refused in plain words before any page
    is read or the scanner moves. A roll that changed since the last run replaces the lot's
    (recorded with who and when).
    """
    from massicot_core.identifiers import CodeError, validate_paper_code
    from massicot_core.roll import read_roll
    from scanner.resolve import default_actor

    try:
        paper = validate_paper_code(paper.strip().upper())
    except (CodeError, ValueError) as exc:
        raise UserError(f"{exc}: use the paper code printed on the booklets") from None
    lines = read_roll(roll)
    lot = Lot.open_or_create(
        folder, paper=paper, centre=check_centre(centre), roll=lines, pages_per_copy=pages_per_copy
    )
    with lot.writing():
        state = lot.state()
        refuse_if_sealed(state)
        if state.info.roll != lines:
            lot.replace_roll(lines, by or default_actor())
    return lot


def stopped_words(exc: OSError, lot: Lot) -> str:
    """Why an import stopped on the lot's disk, and what to do, in plain words."""
    kept = (
        "every page received so far is kept; the pages not analysed yet are analysed when the same "
        "command runs again"
    )
    if exc.errno in DISK_FULL:
        return f"the disk holding the lot {lot.folder} is full: {kept}. Free some space, then run it again"
    return (
        f"the lot folder {lot.folder} cannot be read or written ({exc.strerror or exc}): {kept}. "
        "Fix the folder (disk, permissions), then run it again"
    )


def looks_wrong(analysis: PageAnalysis, paper: str) -> bool:
    """A page that will surely need the operator (counted live; the report has the exact list)."""
    if analysis.paper is not None and analysis.paper != paper:
        return True
    if analysis.codes_disagree or (analysis.copy_id is None and not analysis.blank):
        return True
    return analysis.number == 1 and not analysis.label_registration


class Importer:
    """Feeds received pages durably into a lot and has them analysed. Use inside `lot.writing()`."""

    def __init__(
        self,
        lot: Lot,
        state: LotState,
        *,
        workers: int = 1,
        on_update: Callable[[ImportProgress], None] | None = None,
        analyse: Callable[[AnalysisTask], dict] = analyse_task,
    ):
        self.analyse = analyse  # a module-level function: worker processes import it by name
        self.lot = lot
        self.state = state
        self.progress = ImportProgress()
        self.on_update = on_update or (lambda progress: None)
        self.workers = max(1, workers)
        self.pool: ProcessPoolExecutor | None = None
        self.in_flight: deque[tuple[AnalysisTask, Future | None]] = deque()
        if self.workers > 1:
            os.environ.setdefault("GLIBC_TUNABLES", GLIBC_TUNABLES)
            self.pool = self._new_pool()
        else:
            prepare_analysis_process()  # the pages are analysed in this process

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=prepare_analysis_process,
        )

    # -- feeding -------------------------------------------------------------------------------

    def resume(self) -> int:
        """Analyse the pages a previous run received but did not get to analyse."""
        waiting = [r for r in self.state.pages_in_order() if r.analysis is None and r.error is None]
        for record in waiting:
            self._submit(record)
        return len(waiting)

    def receive(self, page: SourcePage) -> bool:
        """Keep a page durably, then have it analysed. False when the lot already has it."""
        return self.receive_many([page]) == 1

    def receive_many(self, pages: list[SourcePage]) -> int:
        """Keep pages durably (their bytes, then one journal commit), then have them analysed.

        Returns how many were new. Batching saves fsyncs: each page's bytes are synced, the
        folder and the journal once per batch — never a journal entry before its bytes.
        """
        new: list[tuple[SourcePage, str, str, str]] = []
        for page in pages:
            key = page_key(page.file_sha256, page.index)
            if key in self.state.pages or any(key == k for _, k, _, _ in new):
                self.progress.skipped += 1
                continue
            original, digest = self.lot.store_original(page, sync_dir=False)
            new.append((page, key, original, digest))
        if not new:
            self.on_update(self.progress)
            return 0
        self.lot.sync_folders(images=False)
        at = now_utc()
        self.lot.append_many(
            [
                {
                    "t": "received",
                    "key": key,
                    "source": page.source,
                    "file_sha256": page.file_sha256,
                    "index": page.index,
                    "sha256": digest,
                    "media_type": page.media_type,
                    "dpi": page.dpi,
                    "original": original,
                    "at": at,
                }
                for page, key, original, digest in new
            ]
        )
        for page, key, original, digest in new:
            record = PageRecord(
                key=key,
                source=page.source,
                file_sha256=page.file_sha256,
                index=page.index,
                sha256=digest,
                media_type=page.media_type,
                dpi=page.dpi,
                original=original,
                order=len(self.state.pages),
            )
            self.state.pages[key] = record
            self.progress.received += 1
            self._submit(record)
        return len(new)

    def unreadable(self, item: UnreadableSource, sha256: str = "") -> bool:
        if item.source in self.state.unreadable:
            return False
        self.lot.append({"t": "unreadable", "source": item.source, "reason": item.reason, "sha256": sha256})
        self.state.unreadable[item.source] = UnreadableRecord(item.source, item.reason, sha256)
        self.progress.unreadable += 1
        self.on_update(self.progress)
        return True

    def file_done(self, file_sha256: str, name: str, pages: int) -> None:
        if file_sha256 in self.state.files_done:
            return
        self.lot.append({"t": "file_done", "file_sha256": file_sha256, "name": name, "pages": pages})
        self.state.files_done[file_sha256] = pages

    # -- analysis ------------------------------------------------------------------------------

    def _task(self, record: PageRecord) -> AnalysisTask:
        info = self.state.info
        return AnalysisTask(
            lot_folder=str(self.lot.folder),
            key=record.key,
            source=record.source,
            original=record.original,
            file_sha256=record.file_sha256,
            index=record.index,
            media_type=record.media_type,
            dpi=record.dpi,
            paper=info.paper,
            model=info.model,
        )

    def _submit(self, record: PageRecord) -> None:
        task = self._task(record)
        future = None
        if self.pool is not None:
            try:
                future = self.pool.submit(self.analyse, task)
            except BrokenProcessPool:  # a worker died meanwhile: this task is run again with the others
                future = Future()
                future.set_exception(BrokenProcessPool("a worker died"))
        self.in_flight.append((task, future))
        self._drain(limit=self.workers * 4 if self.pool is not None else RECEIVE_BATCH - 1)

    def _drain(self, limit: int) -> None:
        """Journal finished analyses in reception order, keeping at most `limit` in flight."""
        done: list[dict] = []
        # Without a pool the analyses run here, a batch at a time: one journal commit per batch.
        run_inline = len(self.in_flight) > limit
        while self.in_flight:
            task, future = self.in_flight[0]
            try:
                if future is None:
                    if not run_inline:
                        break
                    entry = self.analyse(task)
                elif future.done() or len(self.in_flight) > limit:
                    try:
                        entry = future.result()
                    except BrokenProcessPool:
                        self._record(done)
                        done = []
                        self._recover()
                        continue
                else:
                    break
            except OSError:
                # The lot's disk failed under the analysis: what finished is journaled, this page
                # and those behind it stay received, unanalysed, for the next run.
                self._record(done)
                raise
            self.in_flight.popleft()
            done.append(entry)
        self._record(done)

    def _recover(self) -> None:
        """A worker died (a decoder crashed on some page): find that page, keep going with the rest.

        Every analysis in flight is lost with the pool; they are run again one at a time, so
        the page that kills a worker again is the culprit: it gets an error entry (set aside,
        reported), the others their analysis. Two pages in a row that break a fresh pool mean
        the pool itself cannot work here: the rest is analysed in this process instead.
        """
        assert self.pool is not None
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        waiting = [task for task, _ in self.in_flight]
        self.in_flight.clear()
        suspect: AnalysisTask | None = None
        for position, task in enumerate(waiting):
            try:
                entry = self.pool.submit(self.analyse, task).result()
            except BrokenProcessPool:
                self.pool.shutdown(wait=False, cancel_futures=True)
                if suspect is not None:
                    self.pool = None
                    self.in_flight.extend((t, None) for t in [suspect, *waiting[position:]])
                    return
                self.pool = self._new_pool()
                suspect = task
                continue
            if suspect is not None:
                self._record([{"t": "analysed", "key": suspect.key, "error": CRASHED}])
                suspect = None
            self._record([entry])
        if suspect is not None:
            self._record([{"t": "analysed", "key": suspect.key, "error": CRASHED}])

    def _record(self, entries: list[dict]) -> None:
        if not entries:
            return
        # the images the workers wrote are named durably before the journal says so
        self.lot.sync_folders(originals=False)
        self.lot.append_many(entries)
        for entry in entries:
            record = self.state.pages[entry["key"]]
            record.error = entry.get("error")
            if entry.get("analysis"):
                record.analysis = analysis_from_json(entry["analysis"])
                record.image = entry.get("image")
                record.image_sha256 = entry.get("image_sha256")
                record.image_media_type = entry.get("media_type", "image/jpeg")
                self.progress.last = record.analysis
            if record.error or (record.analysis and looks_wrong(record.analysis, self.state.info.paper)):
                self.progress.to_check += 1
            self.progress.analysed += 1
        self.on_update(self.progress)

    def finish(self) -> None:
        self._drain(limit=0)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


@dataclass
class ImportResult:
    files: int
    files_skipped: int
    received: int
    skipped: int
    resumed: int
    unreadable: int


def import_files(
    lot: Lot,
    paths: Sequence[Path],
    *,
    workers: int = 1,
    on_update: Callable[[ImportProgress], None] | None = None,
) -> ImportResult:
    """Import scan files into a lot (inside `lot.writing()`); safe to rerun, resumes after a crash."""
    from scanner.sources import iter_source_pages, list_input_files

    state = lot.state()
    refuse_if_sealed(state)
    files, refused = list_input_files(list(paths))
    importer = Importer(lot, state, workers=workers, on_update=on_update)
    skipped_files = 0
    files_by_name = {r.source.rsplit("#", 1)[0]: r.file_sha256 for r in state.pages.values()}
    try:
        resumed = importer.resume()
        for item in refused:
            importer.unreadable(item)
        for path, name in files:
            try:
                digest = sha256_file(path)
            except OSError as exc:
                importer.unreadable(
                    UnreadableSource(f"{name}#0", f"the file cannot be read ({exc.strerror})")
                )
                continue
            if digest in state.files_done:
                skipped_files += 1
                continue
            name = _unique_name(name, digest, files_by_name)
            files_by_name[name] = digest
            pages = 0
            batch: list[SourcePage] = []
            for item in iter_source_pages(path, name):
                if isinstance(item, UnreadableSource):
                    importer.unreadable(item, digest)
                    continue
                pages += 1
                batch.append(item)
                if len(batch) >= RECEIVE_BATCH:
                    importer.receive_many(batch)
                    batch = []
            importer.receive_many(batch)
            importer.file_done(digest, name, pages)
        importer.finish()
    finally:
        importer.close()
    progress = importer.progress
    return ImportResult(
        files=len(files),
        files_skipped=skipped_files,
        received=progress.received,
        skipped=progress.skipped,
        resumed=resumed,
        unreadable=progress.unreadable,
    )


def _unique_name(name: str, digest: str, files_by_name: dict[str, str]) -> str:
    """Scanner software names every export scan.pdf: another file under a name already in the
    lot gets its own (the start of its SHA-256), so that every sheet keeps a name of its own."""
    if files_by_name.get(name, digest) == digest:
        return name
    return f"{name}~{digest[:8]}"
