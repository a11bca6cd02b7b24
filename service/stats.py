"""Indicators: 结案率, 按期结案率, rework, handling time and overdue, per grid, squad,
category or month."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import pandas as pd
from sqlalchemy.orm import Session

from cases.indicators import indicators, month_of
from service.community import CommunitySnapshot
from service.errors import Malformed
from service.models import Stats
from service.scope import asked_area
from service.views import iso
from store.issues import cases_frame, categories_by_code

GroupBy = Literal["grid", "squad", "category", "month"]
GROUP_COLUMN = {"grid": "grid_code", "squad": "squad_id", "category": "category", "month": "month"}


def period(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The reporting period [from, to): the last 90 days up to now unless given (dates)."""
    until = _date(end, "to") if end else now + timedelta(seconds=1)
    since = _date(start, "from") if start else until - timedelta(days=90)
    if since >= until:
        raise Malformed(
            "bad_period", f"from ({since:%Y-%m-%d}) must come before to ({until:%Y-%m-%d})"
        )
    return since, until


def _date(text: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise Malformed("bad_datetime", f"{name} {text!r} is not a date like 2026-11-01") from exc


def stats(
    session: Session,
    snapshot: CommunitySnapshot,
    group_by: GroupBy,
    since: datetime,
    until: datetime,
    now: datetime,
    area: str | None = None,
) -> Stats:
    """Indicators per grid, squad, category or month for cases reported in [since, until),
    of ``area``'s cases when given (a division code; ``bad_area`` if it is none)."""
    frame = cases_frame(session, since, until, now, asked_area(area))
    frame["month"] = month_of(frame["reported_at"]) if len(frame) else []
    key = GROUP_COLUMN[group_by]
    table = indicators(frame, key, since, until, now)
    names = {
        "grid": snapshot.grid_names,
        "squad": snapshot.squad_names,
        "category": {c.code: c.name_zh for c in categories_by_code(session).values()},
    }.get(group_by)
    rows = []
    for record in table.to_dict("records"):
        code = record.pop(key)
        row = {"key": code, "name": names.get(code) if names else code}
        row.update(
            {
                k: (
                    None if pd.isna(v) else (round(float(v), 4) if isinstance(v, float) else int(v))
                )
                for k, v in record.items()
            }
        )
        rows.append(row)
    return Stats.model_validate(
        {
            "group_by": group_by,
            "from": iso(since),
            "to": iso(until),
            "now": iso(now),
            "rows": rows,
        }
    )
