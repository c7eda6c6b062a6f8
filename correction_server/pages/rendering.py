"""Display derivatives made when a lot arrives, so a corrector never waits for one.

A page's display image (correction_server.page_images) costs ~50 ms of CPU to make from a
300 dpi scan. Made on first view, that wait falls on the corrector, and on a whole evening's
worth of first views at once. So the server makes them when a lot is committed, in the
background: the scan station's push is answered at once, and one worker process per server
process renders the lot's pages. Nothing is lost if the server stops first: when it starts
again it looks for pages without their derivative and renders those (and a page viewed before
its turn is still rendered on the spot, as it always was).

The renderer is a separate process that runs only on CPU time nothing else wants (SCHED_IDLE):
rendering holds a core for tens of milliseconds per page, and inside a server process it would
also hold the interpreter lock that the marking requests need. (bench/ingest.py, same machine,
pushes while their pages render: 341/343 pages/s on SQLite and 281/316 on PostgreSQL with
SCHED_IDLE, 315/328 and 245/315 at nice 10; the machine's noise is of that size.)

`massicot office render-pages` calls `render_missing` to (re)build what is missing, e.g.
after the rendering changed (page_images.RENDERING) or the derived folder was lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.models import Copy, Page
from correction_server.pages.images import (
    DEFAULT_WIDTH,
    RENDERING,
    PageLook,
    make_derivatives,
    missing_widths,
)
from correction_server.pages.store import open_store
from correction_server.settings import derived_dir

log = logging.getLogger(__name__)

# Only the width the copy view asks for. The 900 px one would cost another ~20 ms of CPU and
# ~115 kB of disk per page (measured: +30 % time, +55 % disk) for a width no page asks for;
# it is still made on demand if ever asked.
PRERENDERED_WIDTHS: tuple[int, ...] = (DEFAULT_WIDTH,)
# Pages sent to the renderer at once: small, so a stopping server waits at most a second.
BATCH = 8
# Pages read from the database at a time when looking for missing derivatives.
SCAN_CHUNK = 2000
RENDERER_NICE = 10
# A `.part` file older than this was left by a renderer that was killed while writing it.
STALE_PART_SECONDS = 600


@dataclass(frozen=True)
class Outcome:
    rendered: int = 0  # pages whose derivatives were made now
    present: int = 0  # pages whose derivatives were there already
    failed: tuple[str, ...] = ()  # plain words, one per page that could not be rendered


@dataclass
class RenderReport:
    pages: int = 0
    rendered: int = 0
    present: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rendered_per_s(self) -> float:
        return self.rendered / self.seconds if self.seconds > 0 else 0.0

    def add(self, outcome: Outcome) -> None:
        self.rendered += outcome.rendered
        self.present += outcome.present
        self.failed.extend(outcome.failed)


# --- the work itself (runs in the renderer process, or in the CLI's) ---------------------


def render_batch(
    store_path: str, looks: Sequence[PageLook], widths: Sequence[int], store_url: str | None = None
) -> Outcome:
    """Make the missing derivatives of `looks`; a page that cannot be rendered is reported.

    `store_path` holds the derived images; the originals are there too, or in the bucket
    `store_url` names (correction_server.pages.s3store)."""
    store = open_store(store_url or store_path)
    cache = derived_dir(Path(store_path))
    rendered = present = 0
    failed: list[str] = []
    for look in looks:
        todo = missing_widths(cache, look, widths)
        if not todo:
            present += 1
            continue
        try:
            make_derivatives(store, cache, look, todo)
        except FileNotFoundError:
            failed.append(f"image {look.sha256[:12]}… is not in the page store")
        except Exception as exc:  # noqa: BLE001 - one bad image must not stop the others
            failed.append(f"image {look.sha256[:12]}… could not be rendered ({type(exc).__name__}: {exc})")
        else:
            rendered += 1
    return Outcome(rendered, present, tuple(failed))


def _renderer_process_setup(nice: bool = True) -> None:
    if nice:
        # Marking requests and pushes come first: the renderer takes the CPU they leave idle
        # (SCHED_IDLE on Linux; elsewhere a lower priority).
        with contextlib.suppress(OSError):
            os.nice(RENDERER_NICE)
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    import cv2

    cv2.setNumThreads(1)
    # A server process killed outright (SIGKILL, OOM) cannot stop its renderer: the renderer
    # watches for that itself rather than wait forever for work.
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def renderer_pool(workers: int = 1, nice: bool = True) -> ProcessPoolExecutor:
    # Spawned, not forked: the server process has threads (and a database pool) a fork would copy.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_renderer_process_setup,
        initargs=(nice,),
    )


# --- which pages ---------------------------------------------------------------------------


def page_looks(session_factory: sessionmaker[Session], paper_id: int | None = None) -> Iterator[PageLook]:
    """Every page's look (each distinct one once per chunk), read a chunk at a time by page id,
    so no transaction stays open while pages are rendered."""
    last = 0
    while True:
        query = select(Page.id, Page.image_sha256, Page.rotation, Page.skew_degrees).where(Page.id > last)
        if paper_id is not None:
            query = query.join(Copy, Copy.id == Page.copy_id).where(Copy.paper_id == paper_id)
        with session_factory() as session:
            rows = session.execute(query.order_by(Page.id).limit(SCAN_CHUNK)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield from dict.fromkeys(PageLook(sha, rotation, skew or 0.0) for _, sha, rotation, skew in rows)


def missing_looks(
    store_path: Path,
    looks: Iterable[PageLook],
    widths: Sequence[int] = PRERENDERED_WIDTHS,
    store_url: str | None = None,
) -> Iterator[PageLook]:
    """The looks with a derivative missing (and whose image is in the store)."""
    store = open_store(store_url or store_path)
    cache = derived_dir(store_path)
    for look in looks:
        if missing_widths(cache, look, widths) and store.has(look.sha256):
            yield look


def _batches(looks: Iterable[PageLook], size: int) -> Iterator[list[PageLook]]:
    batch: list[PageLook] = []
    for look in looks:
        batch.append(look)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def render_missing(
    session_factory: sessionmaker[Session],
    store_path: Path,
    paper_id: int | None = None,
    jobs: int = 1,
    widths: Sequence[int] = PRERENDERED_WIDTHS,
    progress: Callable[[int, int, Outcome], None] | None = None,
    store_url: str | None = None,
) -> RenderReport:
    """Render every missing derivative (of one paper's pages, or all), `jobs` processes at once.

    `progress(done, total, outcome)` is called after each batch (total: pages to render).
    """
    started = time.perf_counter()
    report = RenderReport()
    looks = list(page_looks(session_factory, paper_id))
    report.pages = len(looks)
    todo = list(missing_looks(store_path, looks, widths, store_url))
    report.present = report.pages - len(todo)
    _clean_stale_parts(derived_dir(store_path))
    done = 0
    if todo:
        with renderer_pool(jobs, nice=False) as pool:
            # Small batches keep every process busy to the end and the progress bar moving.
            futures = [
                pool.submit(render_batch, str(store_path), b, widths, store_url) for b in _batches(todo, 4)
            ]
            for future in futures:
                outcome = future.result()
                report.add(outcome)
                done += outcome.rendered + outcome.present + len(outcome.failed)
                if progress:
                    progress(done, len(todo), outcome)
    report.seconds = time.perf_counter() - started
    return report


def _clean_stale_parts(cache: Path) -> None:
    limit = time.time() - STALE_PART_SECONDS
    for part in cache.glob("*/*.part"):
        with contextlib.suppress(OSError):
            if part.stat().st_mtime < limit:
                part.unlink()


def _drop_old_renderings(cache: Path) -> int:
    """Derivatives made by an older rendering are never served again: their disk is freed."""
    current = f"-v{RENDERING}.jpg"
    dropped = 0
    for old in cache.glob("*/*-v*.jpg"):
        if not old.name.endswith(current):
            with contextlib.suppress(OSError):
                old.unlink()
                dropped += 1
    return dropped


# --- in the server -----------------------------------------------------------------------


class BackgroundRenderer:
    """One renderer process per server process, fed a queue of pages by one thread.

    `submit` never blocks (the push is answered at once). At `start`, pages left without their
    derivative (a server stopped mid-lot, or a new rendering) are queued again; with several
    server processes, one of them does that look-up (a lock file says which).
    """

    def __init__(
        self,
        store_path: Path,
        session_factory: sessionmaker[Session] | None = None,
        widths: Sequence[int] = PRERENDERED_WIDTHS,
        pool_factory: Callable[[], Executor] = renderer_pool,
        store_url: str | None = None,
    ) -> None:
        self.store_path = Path(store_path)
        self.store_url = store_url
        self.session_factory = session_factory
        self.widths = tuple(widths)
        self._pool_factory = pool_factory
        self._pool: Executor | None = None
        self._queue: queue.SimpleQueue[PageLook | None] = queue.SimpleQueue()
        self._queued: set[PageLook] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._resume_thread: threading.Thread | None = None
        self.rendered = 0

    def start(self) -> BackgroundRenderer:
        self._thread = threading.Thread(target=self._run, name="page-renderer", daemon=True)
        self._thread.start()
        return self

    def submit(self, looks: Iterable[PageLook]) -> None:
        with self._lock:
            for look in looks:
                if look not in self._queued:
                    self._queued.add(look)
                    self._queue.put(look)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._queue.put(None)
        for thread in (self._thread, self._resume_thread):
            if thread is not None:
                thread.join(timeout)
        if self._pool is not None:
            # What is still queued is found again at the next start.
            self._pool.shutdown(wait=True, cancel_futures=True)

    def pending(self) -> int:
        with self._lock:
            return len(self._queued)

    def _run(self) -> None:
        if self.session_factory is not None:
            self._resume_thread = threading.Thread(
                target=self._resume, name="page-renderer-resume", daemon=True
            )
            self._resume_thread.start()
        while not self._stopping.is_set():
            batch = self._next_batch()
            if batch:
                self._render(batch)

    def _next_batch(self) -> list[PageLook]:
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        while len(batch) < BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._stopping.set()
                break
            batch.append(item)
        return batch

    def _render(self, batch: list[PageLook]) -> None:
        try:
            if self._pool is None:
                self._pool = self._pool_factory()
            outcome = self._pool.submit(
                render_batch, str(self.store_path), batch, self.widths, self.store_url
            ).result()
        except Exception:  # noqa: BLE001 - a dead renderer is replaced; the pages render on demand
            log.exception("the page renderer failed; a new one is started for the next pages")
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        else:
            self.rendered += outcome.rendered
            for failure in outcome.failed:
                log.warning("display image not made: %s", failure)
        finally:
            with self._lock:
                self._queued.difference_update(batch)

    def _resume(self) -> None:
        try:
            cache = derived_dir(self.store_path)
            cache.mkdir(parents=True, exist_ok=True)
            with open(cache / ".resume.lock", "w") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another server process is at it
                _clean_stale_parts(cache)
                _drop_old_renderings(cache)
                assert self.session_factory is not None
                found = missing_looks(
                    self.store_path, page_looks(self.session_factory), self.widths, self.store_url
                )
                for look in found:
                    if self._stopping.is_set():
                        return
                    self.submit([look])
                # The lock is held until those pages are done, so that a server process starting
                # meanwhile does not queue them a second time.
                while self.pending() and not self._stopping.is_set():
                    time.sleep(0.5)
        except Exception:  # noqa: BLE001 - views still render on demand
            log.exception("looking for pages without their display image failed")
