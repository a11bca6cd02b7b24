"""A gate for costly work: a few at a time, a short queue, the rest told when to come back.

Photo uploads pass through one (``app.state.photo_gate``): decoding a large
image takes a second of CPU and up to a few hundred MB, so however many uploads
arrive at once, only ``workers`` decode at a time, ``waiting`` more wait for a
turn, and any further upload is answered at once with ``Unavailable`` (HTTP 503)
and a ``retry_after_s``, instead of piling up in memory.

The routes are synchronous and run on the web server's worker threads, so the
gate is a condition variable those threads wait on.  The work itself (``run``)
goes on a thread started for it that ends with it: glibc's malloc keeps what a
thread freed in that thread's arena, so decodes taking turns on the web
server's forty long-lived threads leave many of them holding a large image's
worth of memory, where a thread that ends hands it back.  Measured 2026-11-30
on six 40-megapixel PNGs cleaned two at a time: on six long-lived threads the
process peaked at 800 MB and kept 730 MB afterwards; on a thread each, it
peaked at 440 MB and went back to 20 MB.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from service.errors import Unavailable

MAX_RETRY_AFTER_S = 60
T = TypeVar("T")


class Gate:
    """At most ``workers`` holders at a time and ``waiting`` more queued for up to
    ``wait_s`` seconds; anyone else is refused with ``Unavailable`` (code ``busy``)."""

    def __init__(self, workers: int, waiting: int, wait_s: float, what: str = "photos") -> None:
        if workers < 1 or waiting < 0 or wait_s < 0:
            raise ValueError(
                f"a gate needs workers >= 1, waiting >= 0 and wait_s >= 0, "
                f"not {workers}, {waiting} and {wait_s}"
            )
        self.workers, self.waiting, self.wait_s, self.what = workers, waiting, wait_s, what
        self._turn = threading.Condition()
        self._running = 0
        self._queued = 0
        self._typical_s = 1.0  # how long a holder holds, as recently seen: for Retry-After

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``workers`` places for the block, or raise ``Unavailable``."""
        self._enter()
        started = time.monotonic()
        try:
            yield
        finally:
            self._leave(time.monotonic() - started)

    def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` in one of the places, on a thread of its own; its result, or
        what it raised.  ``Unavailable`` when no place is to be had."""
        with self.slot():
            return _on_own_thread(work, *args)

    def _enter(self) -> None:
        with self._turn:
            if self._running < self.workers and self._queued == 0:
                self._running += 1
                return
            if self._queued >= self.waiting:
                raise self._busy()
            self._queued += 1
            try:
                free = self._turn.wait_for(lambda: self._running < self.workers, self.wait_s)
            finally:
                self._queued -= 1
            if not free:
                raise self._busy()
            self._running += 1

    def _leave(self, held_s: float) -> None:
        with self._turn:
            self._running -= 1
            self._typical_s = 0.8 * self._typical_s + 0.2 * held_s
            self._turn.notify()

    def _busy(self) -> Unavailable:
        """The refusal, with a Retry-After of about the time the queue ahead needs."""
        ahead = (self._running + self._queued) / self.workers
        retry = min(MAX_RETRY_AFTER_S, max(1, math.ceil(self._typical_s * ahead)))
        return Unavailable(
            "busy",
            f"the server is busy with other {self.what} ({self._running} being processed, "
            f"{self._queued} waiting); try again in {retry} s",
            retry_after_s=retry,
        )


def _on_own_thread(work: Callable[..., T], *args: object) -> T:
    """Run ``work(*args)`` on a new thread and wait for it; re-raise what it raised."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def call() -> None:
        try:
            outcome.append(work(*args))
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=call, name="gate-work", daemon=True)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]
