"""Timing and formatting helpers shared by the benchmarks in ``bench/``.

How a run is timed (``timed``, ``best_of``) and how its figures and tables are
written; what goes around a run (command line, banner, servers, databases,
browser, exit status) is in ``bench._scaffold``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Run ``fn`` once with the garbage collector paused; return (seconds, result)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    finally:
        if was_enabled:
            gc.enable()
    return elapsed, result


def best_of(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Run ``fn`` ``repeat`` times; return the best time and the last result."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    best, result = timed(fn)
    for _ in range(repeat - 1):
        del result  # let the previous result go before the next run
        elapsed, result = timed(fn)
        best = min(best, elapsed)
    return best, result


def fmt_seconds(seconds: float) -> str:
    """Readable duration: milliseconds below one second, seconds above."""
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_us(seconds: float) -> str:
    """A per-operation time in microseconds."""
    return f"{seconds * 1e6:,.1f} µs"


def fmt_ratio(ratio: float) -> str:
    """A ratio of two figures, to two decimals."""
    return f"{ratio:,.2f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with padded columns; text columns left, others right aligned."""
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(r[i][:1].isdigit() or r[i][:1] in "-." for r in rows) if rows else False
        for i in range(len(headers))
    ]

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if num else "-" * (w + 2)
            for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def column_table(items: Iterable[T], columns: Mapping[str, Callable[[T], str]]) -> str:
    """A Markdown table with a row per item; ``columns`` maps each header to how an
    item's cell in that column is written."""
    rows = [[cell(item) for cell in columns.values()] for item in items]
    return markdown_table(list(columns), rows)
