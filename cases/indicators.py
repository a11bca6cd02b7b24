"""Case-handling indicators (GB/T 30428): closure rate, on-time rate, rework ...

Computed from a frame of cases, one row per case, with the columns
``reported_at, filed_at, resolved_at, closed_at, handle_deadline, due_at,
status, rework_count, overdue, due`` and the grouping column; ``overdue`` and
``due`` come from the store, which holds the one definition of each rule (in
SQL, so that counts grouped in the database agree with these).  A case counts
in a period when it was reported in it.

/stats counts the same in the database (``store.indicators_sql``): it adds up each
group's :class:`Sums` with the store's SQL form of each rule, and :func:`figures`
makes the rates of them; tests/test_indicators_sql.py holds that path to
:func:`indicators` on random cases, on both backends.

Every figure of a group is counted from the group's own cases: a street's 结案率
is its closed cases over its due cases, never the mean of its communities'
rates (a community with one case would weigh as much as one with a hundred).

- ``due``: filed cases whose handling deadline has passed by the
  :func:`horizon` (the end of the period, or now if earlier) or that are
  closed: 应结案数.
- ``closure_rate`` (结案率) = closed / due; ``on_time_rate`` (按期结案率) =
  closed by the handling deadline / due; both None when nothing is due.
- ``rework_rate`` = cases sent back at least once / cases ever resolved.
- ``mean_handling_hours``: reported to closed, over closed cases.
- ``open``: cases not closed, rejected or marked duplicate.
- ``overdue``: open cases past their current stage's deadline at ``now``.
- ``escalated``, ``escalated_street``, ``escalated_district``: cases escalated at
  all (to any level), and those that climbed as far as the street's or the
  district's departments (``escalation_rank`` 2 and 3 in the frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from cases.areas import Level, area_at
from cases.deadlines import LOCAL
from cases.lifecycle import OPEN_STATUSES, Status

GROUPS = ("grid", "squad", "category", "month", "community", "street")
COLUMNS = (
    "reported",
    "open",
    "filed",
    "due",
    "closed",
    "closed_on_time",
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "mean_handling_hours",
    "overdue",
    "escalated",
    "escalated_street",
    "escalated_district",
)
STREET_RANK, DISTRICT_RANK = 2, 3  # escalation ranks: community 1, street 2, district 3


def month_of(utc: pd.Series) -> pd.Series:
    """``YYYY-MM`` of naive-UTC timestamps, in local time."""
    local = pd.to_datetime(utc).dt.tz_localize("UTC").dt.tz_convert(LOCAL)
    return local.dt.strftime("%Y-%m")


def areas_at(codes: pd.Series, level: Level) -> pd.Series:
    """The code of the ``level`` area holding each division code (:func:`cases.areas.area_at`);
    a missing code stays missing."""
    known = {code: area_at(code, level) for code in codes.dropna().unique()}
    return codes.map(known).astype(object)


def horizon(end: datetime, now: datetime) -> datetime:
    """When a case of the period [start, ``end``) is judged due or not: the end of the
    period, or ``now`` if that is earlier (a deadline yet to come is not due)."""
    return min(end, now)


def indicators(
    cases: pd.DataFrame,
    key: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> pd.DataFrame:
    """One row of indicators per value of ``cases[key]`` for cases reported in [start, end).

    ``cases["due"]`` must have been worked out for the :func:`horizon` of ``end`` and
    ``now`` (the store's ``cases_frame`` does), ``cases["overdue"]`` at ``now``.
    """
    frame = cases[(cases["reported_at"] >= start) & (cases["reported_at"] < end)]
    filed = frame["filed_at"].notna()
    closed = frame["status"] == Status.CLOSED
    due = frame["due"].astype(bool)
    on_time = closed & (frame["closed_at"] <= frame["handle_deadline"])
    hours = (frame["closed_at"] - frame["reported_at"]).dt.total_seconds() / 3600
    flags = pd.DataFrame(
        {
            "group": frame[key].fillna("—"),
            "reported": 1,
            "filed": filed,
            "due": due,
            "closed": closed,
            "closed_on_time": on_time,
            "resolved": frame["resolved_at"].notna(),
            "reworked": frame["rework_count"] > 0,
            "hours": hours.where(closed),
            "open": frame["status"].isin(list(OPEN_STATUSES)),
            "overdue": frame["overdue"].astype(bool),
            "escalated": frame["escalation_rank"] > 0,
            "escalated_street": frame["escalation_rank"] >= STREET_RANK,
            "escalated_district": frame["escalation_rank"] >= DISTRICT_RANK,
        }
    )
    sums = flags.groupby("group").agg(
        reported=("reported", "sum"),
        filed=("filed", "sum"),
        due=("due", "sum"),
        closed=("closed", "sum"),
        closed_on_time=("closed_on_time", "sum"),
        resolved=("resolved", "sum"),
        reworked=("reworked", "sum"),
        mean_handling_hours=("hours", "mean"),
        open=("open", "sum"),
        overdue=("overdue", "sum"),
        escalated=("escalated", "sum"),
        escalated_street=("escalated_street", "sum"),
        escalated_district=("escalated_district", "sum"),
    )
    out = sums.assign(
        closure_rate=closure_rate(sums["closed"], sums["due"]),
        on_time_rate=_ratio(sums["closed_on_time"], sums["due"]),
        rework_rate=_ratio(sums["reworked"], sums["resolved"]),
    )
    return out[list(COLUMNS)].rename_axis(key).reset_index()


@dataclass(frozen=True)
class Sums:
    """One group's counts, as a database adds them up (``store.indicators_sql``): the
    parts :func:`figures` makes the group's indicators of, the same parts
    :func:`indicators` sums from a frame of cases.

    ``handled`` counts the closed cases with a closing time and ``handling_seconds``
    adds up their times from report to closure.
    """

    reported: int
    open: int
    filed: int
    due: int
    closed: int
    closed_on_time: int
    resolved: int
    reworked: int
    handled: int
    handling_seconds: float
    overdue: int
    escalated: int
    escalated_street: int
    escalated_district: int


def figures(sums: Sums) -> dict[str, int | float | None]:
    """A group's indicators (:data:`COLUMNS`) from its counts: the rates are the ratios
    :func:`indicators` takes (None where the whole is 0), the handling time the mean
    over the handled cases, in hours (None when none was closed)."""
    return {
        "reported": sums.reported,
        "open": sums.open,
        "filed": sums.filed,
        "due": sums.due,
        "closed": sums.closed,
        "closed_on_time": sums.closed_on_time,
        "closure_rate": rate(sums.closed, sums.due),
        "on_time_rate": rate(sums.closed_on_time, sums.due),
        "rework_rate": rate(sums.reworked, sums.resolved),
        "mean_handling_hours": (
            sums.handling_seconds / sums.handled / 3600 if sums.handled else None
        ),
        "overdue": sums.overdue,
        "escalated": sums.escalated,
        "escalated_street": sums.escalated_street,
        "escalated_district": sums.escalated_district,
    }


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` of one group, None where the whole is 0: :func:`_ratio`'s rule for
    a single pair of counts."""
    return part / whole if whole > 0 else None


def closure_rate(closed: pd.Series, due: pd.Series) -> pd.Series:
    """结案率, row by row: cases closed over cases due; NaN where nothing is due."""
    return _ratio(closed, due)


def _ratio(part: pd.Series, whole: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = part.to_numpy(dtype=float) / whole.to_numpy(dtype=float)
    return pd.Series(np.where(whole.to_numpy() > 0, values, np.nan), index=part.index)
