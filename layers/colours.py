"""The colour scales of the managers' maps, and their legends.

Counts (open cases, overdue cases) go from a pale first colour for none through
equal steps up to the largest count on the map; closure rates from red (low) to
green (high) at fixed bounds, grey where nothing was due.
"""

from __future__ import annotations

import math

OPEN_COLOURS = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
OVERDUE_COLOURS = ("#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d")
# closure rate: below 50 %, 50-70, 70-85, 85-95, 95 % and over
RATE_COLOURS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
RATE_BOUNDS = (0.5, 0.7, 0.85, 0.95)
NO_RATE = "#bdbdbd"  # nothing was due: no closure rate to colour by


def _step(top: int, colours: tuple[str, ...]) -> int:
    """How many counts each colour after the first covers, for counts up to ``top``."""
    return max(1, -(-top // (len(colours) - 1)))


def count_colour(value: int, top: int, colours: tuple[str, ...]) -> str:
    """The colour of a count among counts up to ``top``: the first for none, then
    ``len(colours) - 1`` equal steps of whole numbers up to ``top``."""
    if value <= 0 or top <= 0:
        return colours[0]
    return colours[min(len(colours) - 1, 1 + (value - 1) // _step(top, colours))]


def count_legend(top: int, colours: tuple[str, ...]) -> list[tuple[str, str]]:
    """(colour, counts) for each colour :func:`count_colour` gives counts up to ``top``."""
    entries = [(colours[0], "0")]
    step = _step(top, colours)
    for i, colour in enumerate(colours[1:]):
        low, high = 1 + i * step, min(top, (i + 1) * step)
        if low > top:
            break
        entries.append((colour, str(low) if low == high else f"{low}–{high}"))
    return entries


def is_rate(rate: float | None) -> bool:
    """Whether ``rate`` is a rate at all (not None, not NaN: something was due)."""
    return rate is not None and not math.isnan(rate)


def rate_colour(rate: float | None) -> str:
    """The colour of a closure rate (0..1); :data:`NO_RATE` when there is none."""
    if rate is None or not is_rate(rate):
        return NO_RATE
    return RATE_COLOURS[sum(rate >= bound for bound in RATE_BOUNDS)]


def rate_legend(nothing_due: str) -> list[tuple[str, str]]:
    """(colour, rates) for each colour of :func:`rate_colour`, highest first, and the
    grey of no rate named ``nothing_due``."""
    edges = (0.0, *RATE_BOUNDS, 1.0)
    entries = [
        (colour, f"{low:.0%}–{high:.0%}" if high < 1 else f"≥ {low:.0%}")
        for colour, low, high in zip(RATE_COLOURS, edges[:-1], edges[1:], strict=True)
    ]
    return [*reversed(entries), (NO_RATE, nothing_due)]


def rate_text(rate: float | None) -> str:
    """A closure rate as a whole percentage, or a dash when there is none."""
    return f"{rate:.0%}" if rate is not None and is_rate(rate) else "—"
