"""The indicators /stats counts in SQL (``store.indicators_sql``) equal those pandas counts
from every case of the period (``store.issues.cases_frame`` and ``cases.indicators``),
on both backends, for every grouping and area.

The cases are random but seeded: every status, squads and communities missing,
reports either side of a local month's end, times a fraction of a millisecond
before a whole second, closures before, on and after their
handling deadline, deadlines missing, reworked cases, escalations to each level
(and events to other statuses carrying a level, which are no escalations).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
import shapely
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cases.indicators import GROUPS, figures
from cases.lifecycle import Status
from store.db import make_engine
from store.indicators_sql import UnknownGroup, frame_figures, indicator_sums
from store.models import Category, Issue, IssueEvent
from tests.helpers import GOOD_REPORT, MORNING, SHIMAO

LINGXIAO, GAOTANG, ELSEWHERE = "330206002016", "330206002017", "330206003005"
AREAS = ("", "330206", "330206002", LINGXIAO, f"{LINGXIAO}016", ELSEWHERE)
SINCE, UNTIL = MORNING - timedelta(days=90), MORNING + timedelta(seconds=1)
# a local month's end (2026-10-31 16:00 UTC is midnight in Beijing), inside the period
MONTH_END = datetime(2026, 10, 31, 16, 0)


def _random_cases(rng: random.Random, categories: list[str], n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        reported = rng.choice(
            [
                MONTH_END + timedelta(seconds=rng.randint(-7200, 7200)),
                MORNING - timedelta(seconds=rng.randint(0, 100 * 86400)),  # some before SINCE
            ]
        )
        # fractions of a second SQLite's date functions would round up to the next second
        reported += timedelta(microseconds=rng.choice([0, 123_456, 999_600]))
        status = rng.choice(list(Status))
        filed = None if status == Status.REPORTED else reported + timedelta(hours=rng.random() * 5)
        deadline = (
            None
            if filed is None or rng.random() < 0.1
            else filed + timedelta(hours=rng.choice([1, 24, 72, 240]) + rng.random())
        )
        closed = None
        if status == Status.CLOSED:
            after = rng.choice([-3600.0, 0.0, 3600.0, 86400.0 * rng.random(), 0.9997])
            closed = (deadline or reported + timedelta(days=1)) + timedelta(seconds=after)
        resolved = closed or (reported + timedelta(hours=2) if rng.random() < 0.3 else None)
        community = rng.choice([LINGXIAO, LINGXIAO, GAOTANG, ELSEWHERE, None])
        grid = f"{community or LINGXIAO}{rng.choice(['016', '020'])}"
        rows.append(
            {
                **GOOD_REPORT,
                "category": rng.choice(categories),
                "input_crs": "wgs84",
                "input_lon": SHIMAO[0],
                "input_lat": SHIMAO[1],
                "geom": shapely.Point(SHIMAO),
                "grid_code": grid,
                "community_code": community,
                "status": status.value,
                "squad_id": rng.choice([None, "S1", "S2"]),
                "reported_at": reported,
                "updated_at": reported,
                "filed_at": filed,
                "resolved_at": resolved,
                "closed_at": closed,
                "file_deadline": reported + timedelta(days=2),
                "handle_deadline": deadline,
                "due_at": deadline or reported + timedelta(hours=rng.choice([1, 48, 3000])),
                "rework_count": rng.choice([0, 0, 0, 1, 2]),
                "idempotency_key": f"random-{i}",
            }
        )
    return rows


def _random_events(rng: random.Random, ids: list[int]) -> list[dict[str, Any]]:
    events = []
    for issue_id in rng.sample(ids, len(ids) // 3):
        for _ in range(rng.randint(1, 3)):
            escalation = rng.random() < 0.7
            events.append(
                {
                    "issue_id": issue_id,
                    "at": MORNING,
                    "actor": "test",
                    "to_status": Status.ESCALATED.value if escalation else Status.IN_PROGRESS.value,
                    "level": rng.choice(["community", "street", "district", None]),
                }
            )
    return events


def _differences(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The figures that differ: counts must be equal, missing rates missing in both and
    the others equal within rounding (the mean handling time is summed in another order)."""
    assert mine.keys() == theirs.keys()
    return {
        k: (mine[k], theirs[k])
        for k in mine
        if (mine[k] is None) != (theirs[k] is None)
        or (mine[k] is not None and mine[k] != pytest.approx(theirs[k], rel=1e-9))
    }


@pytest.fixture()
def random_cases(loaded_url: str) -> str:
    """``loaded_url`` with 400 seeded random cases and their escalations added."""
    rng = random.Random(20261130)
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        categories = sorted(session.scalars(select(Category.code)))
        session.execute(insert(Issue), _random_cases(rng, categories, 400))
        ids = sorted(session.scalars(select(Issue.id)))
        session.execute(insert(IssueEvent), _random_events(rng, ids))
    engine.dispose()
    return loaded_url


@pytest.mark.dated
@pytest.mark.parametrize("group_by", GROUPS)
def test_sql_indicators_equal_the_pandas_ones(random_cases: str, group_by: str) -> None:
    engine = make_engine(random_cases)
    with Session(engine) as session:
        for area in AREAS:
            for now in (MORNING, MONTH_END):  # a horizon before the period's end, too
                want = frame_figures(session, group_by, SINCE, UNTIL, now, area)
                got = [
                    (key, figures(sums))
                    for key, sums in indicator_sums(session, group_by, SINCE, UNTIL, now, area)
                ]
                assert [k for k, _ in got] == [k for k, _ in want], (area, now)
                for (key, mine), (_, theirs) in zip(got, want, strict=True):
                    assert _differences(mine, theirs) == {}, (area, now, key)
        # the cases do cover what the test is about
        all_rows = frame_figures(session, group_by, SINCE, UNTIL, MORNING)
        totals = {k: sum(row[k] or 0 for _, row in all_rows) for k in all_rows[0][1]}
    engine.dispose()
    assert totals["reported"] > 200 and totals["closed"] > 20 and totals["overdue"] > 5
    assert totals["escalated_district"] > 0 and totals["closed_on_time"] < totals["closed"]


def test_an_unknown_grouping_is_refused_by_name(loaded_url: str) -> None:
    engine = make_engine(loaded_url)
    with Session(engine) as session, pytest.raises(UnknownGroup, match="'colour'"):
        indicator_sums(session, "colour", SINCE, UNTIL, MORNING)
    engine.dispose()
