"""Rendered pages kept per version of the layers: the managers' map at ``/``.

The map page holds the layers (which change only when a community or a layer is
loaded or unloaded) and words, never case figures (its scripts ask the API for
those) nor anything of who is asking (signing in is the browser's business), so
one rendering serves every request with the same key until the layers change.
Rendering it (reading seven layers, Folium) takes a large part of a second; a kept
page is answered in a few milliseconds (``api.kept_page``: its nonce put in, and
compressed once for all).

A page is kept under its key (language, area, ...) with the layers' version it was
rendered from (:func:`service.community.layers_stamp`); a request that finds
another version drops every page kept.  At most ``max_pages`` are kept, the least
recently used dropped first, so that asking for many areas cannot grow the process.
``max_pages=0`` keeps none (every page rendered: the benchmark's baseline).

No ``ETag`` is given: each answer's body carries its own nonce, and a 304 would
pair the body a browser kept (its old nonce) with this answer's policy.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

MAX_PAGES = 64
T = TypeVar("T")


class PageCache(Generic[T]):
    """Pages (as the web layer keeps them) by key, for one version of the layers;
    bounded, thread-safe."""

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        if max_pages < 0:
            raise ValueError(f"max_pages must be >= 0, not {max_pages!r}")
        self.max_pages = max_pages
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()  # one rendering at a time: no stampede
        self._version: Hashable = None
        self._pages: OrderedDict[Hashable, T] = OrderedDict()
        self.renders = 0  # pages rendered, for tests and benchmarks to look at

    def get(self, version: Hashable, key: Hashable, render: Callable[[], T]) -> T:
        """The page kept under ``key`` for layers at ``version``, else ``render()``'s,
        kept from now on (an exception from ``render`` keeps nothing)."""
        if not self.max_pages:
            self.renders += 1
            return render()
        kept = self._kept(version, key)
        if kept is not None:
            return kept
        with self._render_lock:  # the first of many asking at once renders; the rest wait
            kept = self._kept(version, key)
            if kept is not None:
                return kept
            page = render()
            self.renders += 1
            with self._lock:
                if self._version == version:
                    self._pages[key] = page
                    while len(self._pages) > self.max_pages:
                        self._pages.popitem(last=False)
            return page

    def _kept(self, version: Hashable, key: Hashable) -> T | None:
        with self._lock:
            if version != self._version:
                self._pages.clear()
                self._version = version
                return None
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)
