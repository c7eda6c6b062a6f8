"""Figures too costly to compute for every request, kept a short while by each process.

A national paper's progress or session line reads half a million rows: about a second of the
database for every coordinator's or clerk's page refresh. A snapshot is kept only when its
computation was costly (the caller says what is), for a time in proportion to that cost and
never long; once stale it is computed again in the background while every caller is given the
previous one, so only the very first page of a process waits for it. Nothing is lost with a
process: it is a copy of what the database says, dated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    until: float


class Snapshots(Generic[V]):
    """`get(key, compute, keep)`: the kept value while it is fresh, else `compute()`.

    `keep(value, seconds_it_took)` gives how long to keep it (0: not at all)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry[V]] = {}
        self._computing: set[Hashable] = set()

    def get(
        self,
        key: Hashable,
        compute: Callable[[], V],
        keep: Callable[[V, float], float],
        refresh: Callable[[], V] | None = None,
    ) -> V:
        """`refresh`: how to compute it again away from the caller (its own database session);
        without it, the caller that finds it stale computes it and the others get the previous one."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (self._clock() < entry.until or key in self._computing):
                # Fresh, or being computed again: the previous one meanwhile.
                return entry.value
            self._computing.add(key)
        if entry is not None and refresh is not None:
            threading.Thread(target=self._compute, args=(key, refresh, keep), daemon=True).start()
            return entry.value
        return self._compute(key, compute, keep)

    def _compute(self, key: Hashable, compute: Callable[[], V], keep: Callable[[V, float], float]) -> V:
        try:
            started = self._clock()
            value = compute()
            took = self._clock() - started
            seconds = keep(value, took)
            with self._lock:
                if seconds > 0:
                    self._entries[key] = _Entry(value, self._clock() + seconds)
                else:
                    self._entries.pop(key, None)
            return value
        finally:
            with self._lock:
                self._computing.discard(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def keep_when_costly(size: int, took: float, *, min_size: int = 20_000, min_seconds: float = 0.3) -> float:
    """Seconds to keep a figure over `size` rows that took `took` s: 20 times its cost, at most
    30 s; nothing for a small one (always fresh: the next page shows the last save)."""
    if size < min_size or took < min_seconds:
        return 0.0
    return min(30.0, 20.0 * took)

