"""Who can take a case, who is nearest, and how to share many cases out.

A squad can take a case when its specialty covers the category, it is on duty,
and it holds fewer open tasks than its capacity.  Among those, the nearest by
walking distance is best.  For many waiting cases at once, an assignment
solver minimises the total walking distance while no squad takes more than its
free capacity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from cases.deadlines import LOCAL

HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
CATEGORY, OFF_DUTY, FULL = "category_not_handled", "off_duty", "at_capacity"
REASONS = {
    CATEGORY: "does not handle this category",
    OFF_DUTY: "is off duty now",
    FULL: "is at capacity",
}


class BadDutyHours(ValueError):
    """Duty hours are not written ``HH:MM-HH:MM``."""


class OverCapacity(Exception):
    """A squad already at capacity was chosen without an override."""


class OverrideNeedsNote(ValueError):
    """A capacity override was asked for without a note saying why."""


def over_capacity(name: str, load: int, capacity: int, override: bool, note: str | None) -> bool:
    """Whether sending one more case to a squad goes over its capacity, and may.

    A dispatcher may overload a squad on purpose (the nearest squad is the only
    one that can reach a flooded cellar in time), but must say so: ``override``
    and a ``note`` that the case history keeps.

    Returns
    -------
    bool
        True when the dispatch goes over capacity (and is allowed), False when
        the squad has room.

    Raises
    ------
    OverCapacity
        The squad is full and there is no ``override``.
    OverrideNeedsNote
        The squad is full and the ``override`` carries no note.
    """
    if load < capacity:
        return False
    if not override:
        raise OverCapacity(
            f"{name} already holds {load} open tasks and its capacity is {capacity}; "
            "choose another squad, or send override: true with a note saying why"
        )
    if not (note and note.strip()):
        raise OverrideNeedsNote(
            f"dispatching to {name} over its capacity ({load}/{capacity}) needs a note saying why"
        )
    return True


@dataclass(frozen=True)
class SquadState:
    """What decides whether a squad can take a case now."""

    id: str
    name: str
    categories: frozenset[str]
    duty_hours: str
    capacity: int
    load: int


@lru_cache(maxsize=1024)
def duty_span(duty_hours: str) -> tuple[int, int]:
    """``"08:00-20:00"`` → minutes of the day at start and end."""
    match = HOURS.match(duty_hours)
    if not match:
        raise BadDutyHours(f"duty hours {duty_hours!r} must look like 08:00-20:00")
    h0, m0, h1, m1 = (int(g) for g in match.groups())
    return h0 * 60 + m0, h1 * 60 + m1


def on_duty(duty_hours: str, local: datetime) -> bool:
    """Whether local clock time falls in ``HH:MM-HH:MM`` (overnight spans wrap; 24:00 ends)."""
    start, end = duty_span(duty_hours)
    now = local.hour * 60 + local.minute
    if start == end or (start == 0 and end == 24 * 60):
        return True
    if start < end:
        return start <= now < end
    return now >= start or now < end


def exclusion(
    squad: SquadState, category: str, local: datetime, ignore_capacity: bool = False
) -> str | None:
    """Why ``squad`` cannot take a case of ``category`` now, or None if it can.

    ``ignore_capacity`` is for a dispatcher's explicit override (see
    :func:`over_capacity`): a full squad still counts as able.
    """
    if category not in squad.categories:
        return CATEGORY
    if not on_duty(squad.duty_hours, local):
        return OFF_DUTY
    if squad.load >= squad.capacity and not ignore_capacity:
        return FULL
    return None


def local_time(moment: datetime) -> datetime:
    """Naive UTC to the community's local wall-clock time."""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL)


@dataclass(frozen=True)
class Assignment:
    """Cases matched to squads: ``squad_of[i]`` is a squad position or -1."""

    squad_of: npt.NDArray[np.int64]
    total_m: float


def assign(cost: npt.ArrayLike, free: npt.ArrayLike, allowed: npt.ArrayLike) -> Assignment:
    """Cases to squads with least total walking, each squad within its free capacity.

    Parameters
    ----------
    cost : (cases, squads) array of metres
    free : (squads,) free places of each squad
    allowed : (cases, squads) bool, whether the squad may take the case

    Each squad's column is repeated once per free place, turning capacity into
    a one-to-one assignment that ``linear_sum_assignment`` solves exactly.
    Cases no allowed squad can take stay unassigned; as many cases as possible
    are assigned before any distance is saved.
    """
    cost = np.asarray(cost, dtype=float)
    allowed = np.asarray(allowed, dtype=bool)
    slots = np.repeat(np.arange(cost.shape[1]), np.maximum(np.asarray(free, dtype=int), 0))
    squad_of = np.full(cost.shape[0], -1, dtype=np.int64)
    if len(slots) == 0 or cost.shape[0] == 0:
        return Assignment(squad_of, 0.0)
    expanded = cost[:, slots]
    ok = allowed[:, slots] & np.isfinite(expanded)
    # a forbidden pair costs more than any feasible plan, so it is used only when
    # nothing else is left, and then dropped below
    penalty = (np.nansum(np.where(ok, expanded, 0)) + 1.0) * 2
    rows, cols = linear_sum_assignment(np.where(ok, expanded, penalty))
    good = ok[rows, cols]
    squad_of[rows[good]] = slots[cols[good]]
    return Assignment(squad_of, float(expanded[rows[good], cols[good]].sum()))


def assign_greedily(cost: npt.ArrayLike, free: npt.ArrayLike, allowed: npt.ArrayLike) -> Assignment:
    """One case after another, each to its nearest allowed squad with a free place.

    What dispatching one by one does; the baseline the solver is measured against.
    """
    cost = np.asarray(cost, dtype=float)
    allowed = np.asarray(allowed, dtype=bool)
    left = np.maximum(np.asarray(free, dtype=int), 0).copy()
    squad_of = np.full(cost.shape[0], -1, dtype=np.int64)
    total = 0.0
    for i in range(cost.shape[0]):  # sequential by nature: each choice uses up a place
        options = np.where(allowed[i] & (left > 0) & np.isfinite(cost[i]), cost[i], np.inf)
        best = int(np.argmin(options))
        if np.isfinite(options[best]):
            squad_of[i] = best
            left[best] -= 1
            total += float(options[best])
    return Assignment(squad_of, total)


def parse_categories(text: str) -> frozenset[str]:
    """``"a,b, c"`` → ``{"a", "b", "c"}``."""
    return frozenset(c.strip() for c in str(text).split(",") if c.strip())
