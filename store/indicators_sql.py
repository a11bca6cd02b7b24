"""Indicators counted in the database: one ``GROUP BY`` over the cases of a period.

``/stats`` used to load every case of its period into pandas and count there
(``store.issues.cases_frame`` and ``cases.indicators.indicators``, which remain as
the reference the tests and ``bench.stats`` compare against).  Here the database
adds up each group's :class:`cases.indicators.Sums` and only those rows travel; the
rates are made of them by :func:`cases.indicators.figures`.

The rules are the store's SQL forms, each defined once on :class:`Issue`
(``due_sql``, ``overdue_sql``, ``on_time_sql``) or in ``store.issues``
(:func:`escalation_rank`, :func:`in_place`); the grouping keys are the frame's:
a street is the first digits of its communities' codes (:func:`cases.areas.area_at`),
a month is ``YYYY-MM`` in local time (:func:`cases.indicators.month_of`).  The same
query runs on SQLite and PostgreSQL; only the month and the handling time differ
in spelling.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Float, Integer, Label, and_, case, cast, extract, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLColumnExpression

from cases.areas import DEPLOYMENT, Level
from cases.deadlines import LOCAL
from cases.indicators import (
    DISTRICT_RANK,
    GROUPS,
    STREET_RANK,
    Sums,
    areas_at,
    horizon,
    indicators,
    month_of,
)
from cases.lifecycle import OPEN_STATUSES, Status
from store.issues import cases_frame, escalation_rank, in_place
from store.models import Issue, IssueEvent

NO_KEY = "—"  # the group of cases without one (no squad yet, no community), as pandas fills it

# Local time is UTC+8 all year: China has kept no daylight saving time since 1991, so
# a fixed shift gives the local month of any case this service holds.
_LOCAL_SHIFT = LOCAL.utcoffset(datetime(2026, 1, 1)) or timedelta(0)


class UnknownGroup(ValueError):
    """A grouping that /stats does not know (not one of ``cases.indicators.GROUPS``)."""


def _month(postgres: bool) -> ColumnElement[str]:
    """``YYYY-MM`` of the report in local time."""
    if postgres:
        return func.to_char(Issue.reported_at + _LOCAL_SHIFT, "YYYY-MM")
    minutes = int(_LOCAL_SHIFT.total_seconds() // 60)
    return func.strftime("%Y-%m", Issue.reported_at, f"{minutes:+d} minutes")


def _handling_seconds(postgres: bool) -> ColumnElement[float]:
    """Seconds from report to closure (NULL while not closed)."""
    if postgres:
        return cast(extract("epoch", Issue.closed_at - Issue.reported_at), Float)

    # SQLite's date functions round to the millisecond (12:00:00.9996 reads as 12:00:01);
    # the stored text ('2026-11-26 02:00:00.123456') has microseconds: the whole seconds of
    # its first 19 characters by strftime, the rest from the text.
    whole = len("2026-11-26 02:00:00")

    def seconds(column: SQLColumnExpression[Any]) -> ColumnElement[float]:
        fraction = cast(func.substr(column, whole + 1), Float)
        return fraction + cast(func.strftime("%s", func.substr(column, 1, whole)), Integer)

    return seconds(Issue.closed_at) - seconds(Issue.reported_at)


def group_key(group_by: str, postgres: bool) -> SQLColumnExpression[Any]:
    """The column each row of ``group_by`` counts the cases of."""
    keys: dict[str, SQLColumnExpression[Any]] = {
        "grid": Issue.grid_code,
        "squad": Issue.squad_id,
        "category": Issue.category,
        "month": _month(postgres),
        "community": Issue.community_code,
        "street": func.substr(Issue.community_code, 1, Level.STREET.digits),
    }
    if group_by not in keys:
        raise UnknownGroup(f"cannot group cases by {group_by!r}; one of {', '.join(GROUPS)}")
    return keys[group_by]


def _number(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many of a group's cases meet ``condition`` (a NULL condition is not met)."""
    return func.count(case((condition, 1)))


def indicator_sums(
    session: Session,
    group_by: str,
    start: datetime,
    end: datetime,
    now: datetime,
    area: str = DEPLOYMENT,
) -> list[tuple[str, Sums]]:
    """Each group's :class:`Sums` over the cases reported in [start, end), of ``area``
    when given (a district, street, community or grid code), ordered by key as pandas
    orders groups; cases without a key count under :data:`NO_KEY`.

    ``due`` is judged at the :func:`horizon` of ``end`` and ``now``, ``overdue`` at
    ``now``, as ``store.issues.cases_frame`` does.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    key: Label[Any] = group_key(group_by, postgres).label("key")
    ranks = (
        select(IssueEvent.issue_id, func.max(escalation_rank()).label("rank"))
        .where(IssueEvent.escalation_sql())
        .group_by(IssueEvent.issue_id)
        .subquery()
    )
    rank = ranks.c.rank
    closed = Issue.status == Status.CLOSED.value
    seconds = case((closed, _handling_seconds(postgres)))
    counts: dict[str, ColumnElement[Any]] = {
        "reported": func.count(),
        "open": _number(Issue.status.in_(sorted(s.value for s in OPEN_STATUSES))),
        "filed": _number(Issue.filed_at.is_not(None)),
        "due": _number(Issue.due_sql(horizon(end, now))),
        "closed": _number(closed),
        "closed_on_time": _number(Issue.on_time_sql()),
        "resolved": _number(Issue.resolved_at.is_not(None)),
        "reworked": _number(Issue.rework_count > 0),
        "handled": func.count(seconds),
        "handling_seconds": func.coalesce(func.sum(seconds), 0.0),
        "overdue": _number(Issue.overdue_sql(now)),
        "escalated": _number(rank > 0),
        "escalated_street": _number(rank >= STREET_RANK),
        "escalated_district": _number(rank >= DISTRICT_RANK),
    }
    query = (
        select(key, *(column.label(name) for name, column in counts.items()))
        .select_from(Issue)
        .outerjoin(ranks, ranks.c.issue_id == Issue.id)
        .where(and_(Issue.reported_at >= start, Issue.reported_at < end))
        .group_by(key)
    )
    if area:
        query = query.where(in_place(area))
    rows = [
        (NO_KEY if row.key is None else str(row.key), _sums(row._mapping))
        for row in session.execute(query)
    ]
    return sorted(rows, key=lambda row: row[0])


def _sums(row: RowMapping) -> Sums:
    """A result row of :func:`indicator_sums` as the numbers it holds."""
    seconds = float(row["handling_seconds"])
    counts = {
        name: int(row[name]) for name in Sums.__dataclass_fields__ if name != "handling_seconds"
    }
    return Sums(**counts, handling_seconds=seconds)


_FRAME_COLUMN = {
    "grid": "grid_code",
    "squad": "squad_id",
    "category": "category",
    "month": "month",
    "community": "community_code",
    "street": "street_code",
}


def frame_figures(
    session: Session,
    group_by: str,
    start: datetime,
    end: datetime,
    now: datetime,
    area: str = DEPLOYMENT,
) -> list[tuple[str, dict[str, int | float | None]]]:
    """What :func:`indicator_sums` and :func:`cases.indicators.figures` answer, the way
    /stats worked it out before: every case of the period loaded into pandas
    (:func:`store.issues.cases_frame`) and counted by :func:`cases.indicators.indicators`.

    Kept as the reference the SQL is held to (tests/test_indicators_sql.py) and as
    the baseline of ``bench.stats``; no request takes this path.
    """
    if group_by not in _FRAME_COLUMN:
        raise UnknownGroup(f"cannot group cases by {group_by!r}; one of {', '.join(GROUPS)}")
    frame = cases_frame(session, start, end, now, area)
    frame["month"] = month_of(frame["reported_at"]) if len(frame) else []
    frame["street_code"] = areas_at(frame["community_code"], Level.STREET)
    column = _FRAME_COLUMN[group_by]
    table = indicators(frame, column, start, end, now)
    return [
        (
            str(record.pop(column)),
            {
                k: None if pd.isna(v) else (float(v) if isinstance(v, float) else int(v))
                for k, v in record.items()
            },
        )
        for record in table.to_dict("records")
    ]
