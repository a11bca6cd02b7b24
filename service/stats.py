"""Indicators: 结案率, 按期结案率, rework, handling time and overdue, per grid, squad,
category, month, community or street, over the whole deployment or one area."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from cases.indicators import figures
from service.community import CommunitySnapshot
from service.errors import Malformed
from service.models import Stats
from service.scope import asked_area
from service.stats_cache import TtlCache
from service.views import iso
from store.catalogue import shared_catalogue
from store.indicators_sql import indicator_sums

GroupBy = Literal["grid", "squad", "category", "month", "community", "street"]


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


def recent_stats(
    cache: TtlCache[Stats],
    session: Session,
    snapshot: CommunitySnapshot,
    group_by: GroupBy,
    start: str | None,
    end: str | None,
    now: datetime,
    area: str | None = None,
) -> Stats:
    """:func:`stats` for the :func:`period` from ``start`` to ``end`` (dates, as asked), the
    answer kept in ``cache`` per area, grouping, period as asked and ``now`` rounded to
    the cache's lifetime (``service.stats_cache``: until a case is written)."""

    def work_out() -> Stats:
        since, until = period(start, end, now)
        return stats(session, snapshot, group_by, since, until, now, area)

    return cache.get((area, group_by, start, end, cache.now_bucket(now)), work_out)


def stats(
    session: Session,
    snapshot: CommunitySnapshot,
    group_by: GroupBy,
    since: datetime,
    until: datetime,
    now: datetime,
    area: str | None = None,
) -> Stats:
    """Indicators per grid, squad, category, month, community or street for the cases
    reported in [since, until) in ``area`` (every case when None).

    Each group's figures are counted from its own cases, in one ``GROUP BY`` in the
    database (:func:`store.indicators_sql.indicator_sums`, :func:`cases.indicators.figures`),
    so a street's rates are its cases' rates, not an average of its communities'.
    """
    scope = asked_area(area)
    names = _names(session, snapshot, group_by)
    if group_by == "category":
        english = {c.code: c.name_en for c in shared_catalogue(session).values()}
    else:  # grids and squads by their English names where the layers have them
        kind = {"grid": "grid", "squad": "squad"}.get(group_by)
        english = {k: v for (of, k), v in snapshot.english.items() if of == kind}
    rows = [
        {
            "key": code,
            "name": code if names is None else names.get(code),
            "name_en": english.get(code),
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures(sums).items()},
        }
        for code, sums in indicator_sums(session, group_by, since, until, now, scope)
    ]
    return Stats.model_validate(
        {
            "group_by": group_by,
            "area": scope or None,
            "from": iso(since),
            "to": iso(until),
            "now": iso(now),
            "rows": rows,
        }
    )


def _names(
    session: Session, snapshot: CommunitySnapshot, group_by: GroupBy
) -> dict[str, str] | None:
    """The groups' names by key; None where the key is its own name (a month).

    Street names are not stored: a street's name is null.
    """
    if group_by == "month":
        return None
    if group_by == "category":
        return {c.code: c.name_zh for c in shared_catalogue(session).values()}
    known = {
        "grid": snapshot.grid_names,
        "squad": snapshot.squad_names,
        "community": snapshot.community_names,
    }
    return known.get(group_by, {})
