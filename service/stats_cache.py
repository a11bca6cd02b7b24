"""A short-lived cache of /stats answers: the map page asks for three at once on load,
and many pages ask the same within seconds.

An answer is kept per (area, grouping, period as asked, ``now`` rounded to the
cache's lifetime) for at most ``ttl_s`` seconds, and dropped as soon as a case is
written in this process (:func:`store.case_writes.case_writes` moves).  So an
answer can be late by the lifetime only for what time alone changes (a case
becoming overdue) or for writes made by another process.  One cache serves one
database: the app keeps it beside its engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from store.case_writes import case_writes

T = TypeVar("T")
TTL_S = 5.0  # how long an answer is kept
MAX_ENTRIES = 512  # answers kept at most; the oldest are dropped first


class BadLifetime(ValueError):
    """A cache lifetime or size that is not positive."""


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    writes: int  # case_writes() before the value was worked out
    expires: float  # on the cache's clock


class TtlCache(Generic[T]):
    """Values by key, each kept ``ttl_s`` seconds on ``clock`` (monotonic by default)
    and while no case is written; thread-safe."""

    def __init__(
        self,
        ttl_s: float = TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or max_entries <= 0:
            raise BadLifetime(f"ttl_s ({ttl_s!r}) and max_entries ({max_entries!r}) must be > 0")
        self.ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry[T]] = {}

    def get(self, key: Hashable, work_out: Callable[[], T]) -> T:
        """The value kept under ``key``, or ``work_out()``'s, kept from now on.

        The count of case writes is read before ``work_out`` runs: a write committed
        while it runs leaves a value that is never answered again.
        """
        writes = case_writes()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.writes == writes and self._clock() < entry.expires:
                return entry.value
        value = work_out()
        with self._lock:
            if len(self._entries) >= self._max:
                self._drop_stale(writes)
            self._entries[key] = _Entry(value, writes, self._clock() + self.ttl_s)
        return value

    def _drop_stale(self, writes: int) -> None:
        """Make room: drop what may no longer be answered, else the oldest half."""
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.writes != writes or e.expires <= now]:
            del self._entries[key]
        if len(self._entries) >= self._max:
            for key in list(self._entries)[: self._max // 2 + 1]:
                del self._entries[key]

    def now_bucket(self, now: datetime) -> int:
        """``now`` rounded down to the cache's lifetime: answers asked at moments that far
        apart by the app's clock (which a test may set) are not shared."""
        return int(now.timestamp() // self.ttl_s)
